import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relaxJsonl, type RelaxInputRecord } from './jsonl.js';
import { lennardJonesBatch } from './testing/lennardJones.js';
import { cubicCrystal } from './testing/cubicCrystals.js';
import { uncoveredElements } from '../potential/types.js';

const lj = { epsilon: 0.0104, sigma: 3.4, rc: 10.2 };

test('relaxJsonl: a structure with an element the potential does not cover gets its own error line; the rest of its batch is relaxed', () => {
  const base = lennardJonesBatch(lj);
  const potential = Object.assign((s: Parameters<typeof base>[0]) => base(s), { elements: new Set(['Ar']) });
  const ar = cubicCrystal('Ar', 'FCC', 5.4);
  const kr = cubicCrystal('Kr', 'FCC', 5.7);
  assert.deepEqual(uncoveredElements(potential, kr), ['Kr']);
  assert.deepEqual(uncoveredElements(base, kr), [], 'a potential that does not say what it covers is not second-guessed');
  const input: RelaxInputRecord[] = [{ id: 'a', structure: ar }, { id: 'k', structure: kr }, { id: 'b', structure: cubicCrystal('Ar', 'FCC', 5.2) }];
  const out = join(mkdtempSync(join(tmpdir(), 'kldm-relaxjsonl-')), 'relaxed.jsonl');
  const summary = relaxJsonl({ input, outPath: out, potential, options: { fmax: 1e-3, maxSteps: 300 }, batchSize: 8 });
  assert.equal(summary.relaxed, 2);
  assert.equal(summary.failed, 1);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l['id']), ['a', 'k', 'b']);
  assert.equal(lines[1]!['error'], 'element Kr not covered by the potential');
  assert.equal(lines[0]!['converged'], true);
  assert.equal(lines[2]!['converged'], true);
});
