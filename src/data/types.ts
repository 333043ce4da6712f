/**
 * In-memory form of a preprocessed benchmark split (spec §1.2-1.4), the output
 * of `kldm data prepare` and the input of training, sampling and evaluation.
 * Structures are stored column-wise in flat typed arrays; crystal k's atoms are
 * [atomOffsets[k], atomOffsets[k+1]) in the original site order of its CIF
 * (the order matters for the matcher, see the CSP evaluation).
 */
export interface PreparedSplit {
  dataset: string;
  split: string;
  /** M material ids, in file order */
  materialIds: string[];
  /** length M+1 */
  atomOffsets: Int32Array;
  /** atomic numbers Z, total atoms */
  atomTypes: Int32Array;
  /** fractional coordinates after Niggli reduction (spec §1.2), total*3 */
  frac: Float32Array;
  /** lattice lengths a,b,c in Å, M*3 (Niggli-reduced, spec §1.2) */
  lengths: Float32Array;
  /** lattice angles alpha,beta,gamma in degrees, M*3 */
  angles: Float32Array;
  /**
   * 0-based data-row index in the source CSV of each crystal, length M (set by
   * `loadSplit`; rows that failed preprocessing are absent from the split).
   */
  sourceRows?: Int32Array;
}

/** Per-atom-count log-length statistics (spec §1.3), computed from the train split. */
export interface LatticeStats {
  /** keyed by atom count N */
  byAtomCount: Record<number, { loc: [number, number, number]; scale: [number, number, number] }>;
}
