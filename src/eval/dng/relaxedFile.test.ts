import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRelaxedJsonl } from './relaxedFile.js';
import { writeCif } from '../../crystal/io/cif.js';
import { cubicCrystal } from '../../relax/testing/cubicCrystals.js';

const file = (text: string): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'kldm-relaxed-')), 'relaxed.jsonl');
  writeFileSync(p, text);
  return p;
};

test('readRelaxedJsonl: relaxed structures by id, error lines as failed relaxations, a torn last line ignored', () => {
  const nacl = cubicCrystal('NaCl', 'Halite', 5.6);
  const lines = [
    JSON.stringify({ id: 'a', converged: true, steps: 12, energy: -27.5, cif: writeCif(nacl, 'a') }),
    JSON.stringify({ id: 'b', error: 'the potential gave a non-finite energy' }),
    JSON.stringify({ id: 'c', converged: false, steps: 500, energy: -3, cif: writeCif(nacl, 'c') }),
    '{"id":"d","conv',
  ];
  const m = readRelaxedJsonl(file(lines.join('\n')));
  assert.deepEqual([...m.keys()], ['a', 'b', 'c']);
  assert.equal(m.get('a')!.energy, -27.5);
  assert.equal(m.get('a')!.converged, true);
  assert.equal(m.get('a')!.final!.species.length, nacl.species.length);
  for (let k = 0; k < 9; k++) assert.ok(Math.abs(m.get('a')!.final!.lattice[k]! - nacl.lattice[k]!) < 1e-5);
  assert.equal(m.get('b')!.final, null);
  assert.ok(Number.isNaN(m.get('b')!.energy));
  assert.equal(m.get('c')!.converged, false);
});

test('readRelaxedJsonl names a broken line, a line without id and a missing file', () => {
  assert.throws(() => readRelaxedJsonl(file('{"x":1\n{"id":"a"}\n')), /--relaxed: .* line 1 is not JSON/);
  assert.throws(() => readRelaxedJsonl(file('{"energy":1}\n')), /line 1 has no "id"/);
  assert.throws(() => readRelaxedJsonl('/nonexistent/relaxed.jsonl'), /--relaxed: cannot read \/nonexistent\/relaxed.jsonl: ENOENT/);
});
