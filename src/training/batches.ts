/**
 * Epoch batching over a prepared split (spec §1.7): crystals shuffled every epoch with our seedable
 * Rng, batches of `batchSize` crystals, last partial batch kept. Each batch is a clean CSP state:
 * atom types, network-scale positions p = wrap1(f) (spec "Conventions"), and the lattice feature
 * vector l (spec §1.4), which are precomputed once per split since they do not depend on the epoch.
 *
 * Resumability: the batcher's whole state is (epoch-start RNG state, epoch, cursor); the epoch's
 * permutation is regenerated from the saved RNG state, so a resumed run visits the same crystals in
 * the same order.
 */
import type { LatticeStats, PreparedSplit } from '../data/types.js';
import { makeLayout, type BatchLayout } from '../network/types.js';
import { Rng, type RngState } from '../util/rng.js';
import { wrap1 } from '../diffusion/wrap.js';
import { latticeFeaturesOf } from './lattice-features.js';
import type { CleanCspBatch } from '../diffusion/loss.js';

/** A clean (t = 0) CSP batch: what the diffusion loss noises (a CleanCspBatch of src/diffusion/loss.ts). */
export interface CleanBatch extends CleanCspBatch {
  layout: BatchLayout;
  /** indices of the crystals in the split, length G */
  crystals: Int32Array;
  /** atomic numbers, length N */
  types: Int32Array;
  /** clean positions wrap1(f) in (-1/2, 1/2], N*3 (the TDM wraps again; idempotent) */
  frac: Float32Array;
  /** clean lattice features l0 (spec §1.4), G*6 */
  lattice: Float32Array;
}

/**
 * Edge-feature elements (directed edges × hidden width H) per inference batch aimed at by
 * edgeBudgetBatchSize: 20,480 edges at H = 128.
 */
export const INFERENCE_EDGE_FEATURE_BUDGET = 20480 * 128;

/**
 * Crystals per inference (sampling) batch: about INFERENCE_EDGE_FEATURE_BUDGET / H edges (n(n−1)
 * per crystal, spec §1.6), between 16 and 1024. Why this size (npm run bench:sampling, cpu-small,
 * quiet 2-core machine, 2026-11-25 16:53 UTC, EM crystal-steps/s): MP-20 2,699 at 5,144 edges,
 * 3,381 at 10,840, 4,161 at 20,168, 3,391 at 40,104; Perov-5 13,891 at 5,120 edges, 17,726 at
 * 20,480, 16,413 at 40,960. Smaller batches leave the second core idle part of the time (CPU/wall
 * ~1.5); much larger ones spill the edge buffers out of the cache. Scaling by 1/H keeps the buffer
 * bytes the same for wider networks (measured at H = 128 only).
 */
export function edgeBudgetBatchSize(atomCounts: ArrayLike<number>, hidden = 128): number {
  if (atomCounts.length === 0) return 1024;
  let edges = 0;
  for (let i = 0; i < atomCounts.length; i++) edges += atomCounts[i]! * (atomCounts[i]! - 1);
  const mean = Math.max(1, edges / atomCounts.length);
  const edgeBudget = INFERENCE_EDGE_FEATURE_BUDGET / Math.max(1, hidden);
  return Math.max(16, Math.min(1024, Math.floor(edgeBudget / mean)));
}

/** Per-split tensors computed once: wrapped positions and lattice features. */
export class BatchSource {
  readonly numCrystals: number;
  private readonly pos: Float32Array;
  private readonly features: Float32Array;

  constructor(readonly split: PreparedSplit, stats: LatticeStats) {
    this.numCrystals = split.materialIds.length;
    this.pos = new Float32Array(split.frac.length);
    for (let i = 0; i < split.frac.length; i++) this.pos[i] = wrap1(split.frac[i]!);
    this.features = latticeFeaturesOf(split, stats);
  }

  atomCount(k: number): number {
    return this.split.atomOffsets[k + 1]! - this.split.atomOffsets[k]!;
  }

  /** Gathers crystals `indices` (in this order) into one batch. */
  batch(indices: ArrayLike<number>): CleanBatch {
    const G = indices.length;
    const counts = new Int32Array(G);
    for (let g = 0; g < G; g++) counts[g] = this.atomCount(indices[g]!);
    const layout = makeLayout(counts);
    const types = new Int32Array(layout.numAtoms);
    const pos = new Float32Array(layout.numAtoms * 3);
    const lattice = new Float32Array(G * 6);
    const off = this.split.atomOffsets;
    for (let g = 0; g < G; g++) {
      const k = indices[g]!;
      const src = off[k]!;
      const dst = layout.atomOffsets[g]!;
      const n = counts[g]!;
      types.set(this.split.atomTypes.subarray(src, src + n), dst);
      pos.set(this.pos.subarray(src * 3, (src + n) * 3), dst * 3);
      lattice.set(this.features.subarray(k * 6, k * 6 + 6), g * 6);
    }
    return { layout, crystals: Int32Array.from(indices), types, frac: pos, lattice };
  }

  /** Consecutive batches over crystals [0, limit) in file order (validation subsets, spec §13.14). */
  *fixedBatches(limit: number, batchSize: number): Generator<CleanBatch> {
    const n = Math.min(limit, this.numCrystals);
    for (let start = 0; start < n; start += batchSize) {
      const idx = new Int32Array(Math.min(batchSize, n - start));
      for (let i = 0; i < idx.length; i++) idx[i] = start + i;
      yield this.batch(idx);
    }
  }
}

export interface EpochBatcherState {
  /** epochs completed before the current one (0-based index of the current epoch) */
  epoch: number;
  /** batches of the current epoch already handed out */
  cursor: number;
  /** RNG state from which the current epoch's permutation was drawn */
  epochRng: RngState;
  /** RNG state after drawing the current permutation (start of the next epoch) */
  nextRng: RngState;
}

/** Shuffled epochs of batches with a serialisable position (spec §1.7). */
export class EpochBatcher {
  private state: EpochBatcherState;
  private order: Int32Array;

  constructor(readonly source: BatchSource, readonly batchSize: number, seedOrState: number | EpochBatcherState) {
    if (typeof seedOrState === 'number') {
      const rng = new Rng(seedOrState);
      const epochRng = rng.state();
      this.order = rng.permutation(source.numCrystals);
      this.state = { epoch: 0, cursor: 0, epochRng, nextRng: rng.state() };
    } else {
      this.state = structuredClone(seedOrState);
      this.order = new Rng(this.state.epochRng).permutation(source.numCrystals);
    }
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.source.numCrystals / this.batchSize);
  }

  get epoch(): number {
    return this.state.epoch;
  }

  /** batches of the current epoch handed out so far */
  get cursor(): number {
    return this.state.cursor;
  }

  /** True when the current epoch has no batches left. */
  get epochDone(): boolean {
    return this.state.cursor >= this.batchesPerEpoch;
  }

  /** The next batch of the current epoch, or null at its end (call startNextEpoch). */
  next(): CleanBatch | null {
    if (this.epochDone) return null;
    const start = this.state.cursor * this.batchSize;
    const end = Math.min(start + this.batchSize, this.source.numCrystals);
    this.state.cursor++;
    return this.source.batch(this.order.subarray(start, end));
  }

  startNextEpoch(): void {
    const rng = new Rng(this.state.nextRng);
    const epochRng = rng.state();
    this.order = rng.permutation(this.source.numCrystals);
    this.state = { epoch: this.state.epoch + 1, cursor: 0, epochRng, nextRng: rng.state() };
  }

  snapshot(): EpochBatcherState {
    return structuredClone(this.state);
  }
}
