/**
 * The contract between the network (src/network), the diffusion processes
 * (src/diffusion), the samplers (src/sampling) and training (src/training).
 * Spec conventions (kldm.md, "Conventions"): G crystals, N atoms in the batch,
 * atoms of one crystal contiguous; float32 everywhere.
 */

/** Which atoms belong to which crystal. */
export interface BatchLayout {
  /** G */
  numCrystals: number;
  /** N */
  numAtoms: number;
  /** length G+1: atoms of crystal g are [atomOffsets[g], atomOffsets[g+1]) */
  atomOffsets: Int32Array;
  /** length N: crystal index g(i) of atom i */
  crystalOfAtom: Int32Array;
}

export function makeLayout(atomsPerCrystal: ArrayLike<number>): BatchLayout {
  const G = atomsPerCrystal.length;
  const atomOffsets = new Int32Array(G + 1);
  for (let g = 0; g < G; g++) atomOffsets[g + 1] = atomOffsets[g]! + atomsPerCrystal[g]!;
  const N = atomOffsets[G]!;
  const crystalOfAtom = new Int32Array(N);
  for (let g = 0; g < G; g++) crystalOfAtom.fill(g, atomOffsets[g]!, atomOffsets[g + 1]!);
  return { numCrystals: G, numAtoms: N, atomOffsets, crystalOfAtom };
}

/** Inputs of one network call (spec §2 "Inputs"). */
export interface NetInput {
  layout: BatchLayout;
  /** network time t in [0,1], length G */
  t: Float32Array;
  /** network-scale positions p in (-1/2, 1/2], N*3 row-major */
  pos: Float32Array;
  /** network-scale velocities v = u/(2π), N*3 */
  vel: Float32Array;
  /** CSP: atomic numbers Z (embedding row index), length N */
  types: Int32Array;
  /** lattice features l (spec §1.4), G*6 */
  lattice: Float32Array;
  /**
   * DNG with continuous types (spec §2.1.2 `smooth = true`, §5.1-5.2): real type features,
   * N*h_dim (noisy one-hot or analog bits); then `types` is ignored. Absent for CSP.
   */
  typeFeatures?: Float32Array;
}

/** Outputs of one network call (spec §2.3). */
export interface NetOutput {
  /** velocity head, N*3, centred per crystal when zero_cog */
  v: Float32Array;
  /** lattice head, G*6 */
  l: Float32Array;
  /** type head (spec §2.3 `pred_h`, DNG only), N*h_dim; absent for CSP networks */
  h?: Float32Array;
}

/** Anything that maps a noisy state to the heads' outputs (inference only). */
export interface ScoreNetwork {
  predict(input: NetInput): NetOutput;
  /** CSPVNet's config; its hidden width sizes inference batches (edgeBudgetBatchSize). Absent for analytic networks. */
  readonly config?: { readonly hidden: number };
}
