import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeLatticeStats, summariseSplit, toReferenceJson, MIN_LATTICE_SCALE } from './stats.js';
import type { PreparedSplit } from './types.js';

/** A synthetic split: one crystal per entry of `cells` ([N, a, b, c]), angles 90°. */
function synthetic(cells: [number, number, number, number][]): PreparedSplit {
  const offsets = [0];
  const types: number[] = [];
  const lengths: number[] = [];
  for (const [n, a, b, c] of cells) {
    for (let i = 0; i < n; i++) types.push(6);
    offsets.push(types.length);
    lengths.push(a, b, c);
  }
  return {
    dataset: 'synthetic', split: 'train', materialIds: cells.map((_, i) => `x-${i}`),
    atomOffsets: Int32Array.from(offsets), atomTypes: Int32Array.from(types), frac: new Float32Array(3 * types.length),
    lengths: Float32Array.from(lengths), angles: new Float32Array(3 * cells.length).fill(90),
  };
}

test('§1.3: per-N trimmed log-length mean and population std (k = floor(0.025 M) per column)', () => {
  // N = 2: 80 structures, a = 1..80 (so k = 2: drop a = 1, 2, 79, 80), b = 2 constant, c reversed order
  const cells: [number, number, number, number][] = [];
  for (let i = 1; i <= 80; i++) cells.push([2, i, 2, 81 - i]);
  const st = computeLatticeStats(synthetic(cells));
  const kept = Array.from({ length: 76 }, (_, i) => Math.log(i + 3)); // a = 3..78
  const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
  const std = Math.sqrt(kept.reduce((s, v) => s + (v - mean) ** 2, 0) / kept.length);
  const e = st.byAtomCount[2]!;
  assert.ok(Math.abs(e.loc[0] - mean) < 1e-12);
  assert.ok(Math.abs(e.scale[0] - std) < 1e-12);
  assert.ok(Math.abs(e.loc[1] - Math.log(2)) < 1e-7);
  assert.equal(e.scale[1], MIN_LATTICE_SCALE); // zero spread floored (§13.13)
  assert.ok(Math.abs(e.loc[2] - mean) < 1e-12); // columns are sorted independently
  assert.equal(st.counts[2], 80);
});

test('§13.13: k = 0 (fewer than 40 structures) uses all rows instead of the empty reference slice; one structure -> floored scale', () => {
  const st = computeLatticeStats(synthetic([[3, 2, 3, 4], [3, 4, 3, 4], [1, 5, 5, 5]]));
  assert.ok(Math.abs(st.byAtomCount[3]!.loc[0] - (Math.log(2) + Math.log(4)) / 2) < 1e-7);
  assert.ok(Math.abs(st.byAtomCount[3]!.scale[0] - (Math.log(4) - Math.log(2)) / 2) < 1e-7);
  assert.deepEqual(st.byAtomCount[1]!.scale, [MIN_LATTICE_SCALE, MIN_LATTICE_SCALE, MIN_LATTICE_SCALE]);
  const ref = JSON.parse(toReferenceJson(st));
  assert.deepEqual(Object.keys(ref), ['1', '3']);
  assert.equal(ref['3'].length, 2);
});

test('summary: histogram, element counts, lattice ranges, volume', () => {
  const s = summariseSplit(synthetic([[2, 2, 3, 4], [1, 1, 1, 1]]));
  assert.deepEqual(s.atomCountHistogram, { 1: 1, 2: 1 });
  assert.deepEqual(s.elements, [{ symbol: 'C', Z: 6, structures: 2, atoms: 3 }]);
  assert.equal(s.lattice.a.min, 1);
  assert.equal(s.lattice.c.max, 4);
  assert.ok(Math.abs(s.lattice.volume.max - 24) < 1e-9);
  assert.ok(Math.abs(s.lattice.volumePerAtom.mean - (12 + 1) / 2) < 1e-9);
});
