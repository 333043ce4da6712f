import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import { BatchSource, EpochBatcher } from './batches.js';
import { latticeFeaturesOf } from './lattice-features.js';

/** A hand-made split: crystal k has (k % 3) + 1 atoms with Z = 10k + i and f = 0.1·(k+1) + 0.6. */
function toySplit(M: number): PreparedSplit {
  const counts = Array.from({ length: M }, (_, k) => (k % 3) + 1);
  const atomOffsets = new Int32Array(M + 1);
  for (let k = 0; k < M; k++) atomOffsets[k + 1] = atomOffsets[k]! + counts[k]!;
  const N = atomOffsets[M]!;
  const atomTypes = new Int32Array(N);
  const frac = new Float32Array(N * 3);
  for (let k = 0; k < M; k++) {
    for (let i = atomOffsets[k]!; i < atomOffsets[k + 1]!; i++) {
      atomTypes[i] = 10 * k + (i - atomOffsets[k]!);
      frac.fill(0.1 * ((k % 4) + 1) + 0.6, i * 3, i * 3 + 3);
    }
  }
  const lengths = new Float32Array(M * 3).fill(4);
  const angles = new Float32Array(M * 3).fill(90);
  for (let k = 0; k < M; k++) angles[k * 3 + 2] = 120;
  return { dataset: 'toy', split: 'train', materialIds: counts.map((_, k) => `m${k}`), atomOffsets, atomTypes, frac, lengths, angles };
}

const stats: LatticeStats = {
  byAtomCount: {
    1: { loc: [Math.log(4), Math.log(4), Math.log(4)], scale: [1, 1, 1] },
    2: { loc: [0, 0, 0], scale: [2, 2, 2] },
    3: { loc: [1, 1, 1], scale: [0.5, 0.5, 0.5] },
  },
};

test('lattice features use the statistics of the crystal atom count (spec §1.4)', () => {
  const split = toySplit(3);
  const f = latticeFeaturesOf(split, stats);
  // crystal 0: 1 atom, log 4 - log 4 = 0; crystal 1: 2 atoms, log(4)/2; crystal 2: 3 atoms, (log 4 - 1)/0.5
  assert.ok(Math.abs(f[0]!) < 1e-7);
  assert.ok(Math.abs(f[6]! - Math.log(4) / 2) < 1e-6);
  assert.ok(Math.abs(f[12]! - (Math.log(4) - 1) / 0.5) < 1e-6);
  assert.ok(Math.abs(f[3]!) < 1e-7);
  assert.ok(Math.abs(f[5]! - 1.6495722) < 1e-6);
});

test('missing statistics for an atom count is a clear error', () => {
  const split = toySplit(4); // crystal 3 has 1 atom, fine; remove stats for 2 atoms
  const partial: LatticeStats = { byAtomCount: { 1: stats.byAtomCount[1]!, 3: stats.byAtomCount[3]! } };
  assert.throws(() => latticeFeaturesOf(split, partial), /crystal m1: no lattice statistics for cells of 2 atoms/);
});

test('a batch gathers contiguous atoms, wrapped positions and features of the chosen crystals', () => {
  const split = toySplit(6);
  const src = new BatchSource(split, stats);
  const b = src.batch([4, 1]);
  assert.deepEqual(Array.from(b.layout.atomOffsets), [0, 2, 4]);
  assert.deepEqual(Array.from(b.types), [40, 41, 10, 11]);
  // crystal 4: f = 0.1·1 + 0.6 = 0.7 -> wrap1 = -0.3; crystal 1: f = 0.8 -> -0.2
  assert.ok(Math.abs(b.frac[0]! - -0.3) < 1e-6);
  assert.ok(Math.abs(b.frac[6]! - -0.2) < 1e-6);
  const f = latticeFeaturesOf(split, stats);
  assert.deepEqual(Array.from(b.lattice.subarray(0, 6)), Array.from(f.subarray(24, 30)));
});

test('an epoch visits every crystal once, keeps the last partial batch, reshuffles the next epoch', () => {
  const src = new BatchSource(toySplit(10), stats);
  const batcher = new EpochBatcher(src, 4, 7);
  assert.equal(batcher.batchesPerEpoch, 3);
  const epochOrder = (): number[] => {
    const seen: number[] = [];
    for (let b = batcher.next(); b; b = batcher.next()) seen.push(...b.crystals);
    return seen;
  };
  const e0 = epochOrder();
  assert.equal(e0.length, 10);
  assert.deepEqual([...e0].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(batcher.epochDone);
  batcher.startNextEpoch();
  assert.equal(batcher.epoch, 1);
  const e1 = epochOrder();
  assert.deepEqual([...e1].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(e1, e0);
});

test('a batcher restored from a snapshot continues with the same crystals', () => {
  const src = new BatchSource(toySplit(10), stats);
  const a = new EpochBatcher(src, 3, 11);
  a.next();
  const snap = a.snapshot();
  const restored = new EpochBatcher(src, 3, snap);
  const rest = (b: EpochBatcher): number[][] => {
    const out: number[][] = [];
    for (let e = 0; e < 3; e++) {
      for (let x = b.next(); x; x = b.next()) out.push(Array.from(x.crystals));
      b.startNextEpoch();
    }
    return out;
  };
  assert.deepEqual(rest(restored), rest(a));
});
