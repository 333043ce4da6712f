/**
 * The models shipped in the repository's models/ folder (manifests only; no weights are loaded): which one
 * `kldm predict` picks without --model, and what their manifests say about how they were made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseModel, listModels } from './registry.js';

const shipped = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
const Z = { Li: 3, O: 8, P: 15, Ti: 22, Fe: 26, Sr: 38 } as const;

test('default model choice: perovskite-sized cells take the Perov-5 model, other MP-20-like cells the best MP-20 model', () => {
  const srtio3 = [Z.Sr, Z.Ti, Z.O, Z.O, Z.O];
  assert.equal(chooseModel(srtio3, undefined, shipped).entry.manifest.name, 'perov5-cpu-small');
  const lifepo4 = [Z.Li, Z.Fe, Z.P, Z.O, Z.O, Z.O, Z.O];
  assert.equal(chooseModel(lifepo4, undefined, shipped).entry.manifest.name, 'mp20-cpu-medium');
  // the superseded model stays installable by name
  assert.equal(chooseModel(lifepo4, 'mp20-cpu-small', shipped).entry.manifest.name, 'mp20-cpu-small');
});

test('every shipped model has its card and names its warm start without a path of the machine that trained it', () => {
  const models = listModels(shipped);
  assert.ok(models.length >= 3, `models found in ${shipped}: ${models.length}`);
  for (const { manifest, dir } of models) {
    assert.ok(existsSync(join(dir, 'MODEL_CARD.md')), `${manifest.name}: MODEL_CARD.md`);
    const source = manifest.training.warmStart?.source;
    if (source !== undefined) assert.match(source, /^(model [\w.-]+|training checkpoint [^/\\]+)$/, `${manifest.name}: warm start "${source}"`);
  }
});
