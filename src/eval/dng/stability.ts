/**
 * The stability columns of the DNG table (spec §10.2; issue #15), measured with kldm's own pipeline:
 * every structurally valid generated crystal is relaxed with M3GNet-MP-2021.2.8 + FIRE + cell filter
 * and scored against the MP-20 DFT hull (MP2020), src/thermo/stability.ts.
 *
 * - RMSD: generated vs relaxed structure, matched as MatterGen does (ltol 0.5, stol 0.5, angle 10°,
 *   no volume scaling); our matcher gives pymatgen's normalised rms, reported here in Å as
 *   rms × (V_relaxed / N)^(1/3). A pair the matcher cannot match has no RMSD (counted apart).
 * - E_hull mean; stable % at E_hull ≤ 0.1 and ≤ 0 eV/atom, over the relaxed structures.
 * - S.U.N. %: stable (≤ 0.1), unique and novel (evaluateDng's duplicateOf / trainMatch, pymatgen's
 *   default matcher ltol 0.2, stol 0.3, angle 5°, as MatterGen's), over ALL generated structures.
 *
 * Label every table "M3GNet-MP-2021.2.8 relaxation + MP-20 DFT hull (MP2020)": not comparable to the
 * MatterSim / Alex-MP columns of the paper.
 */
import type { Structure } from '../../crystal/types.js';
import { volume } from '../../crystal/lattice.js';
import { uncoveredElements, type BatchPotential } from '../../potential/types.js';
import { relaxStructures } from '../../relax/relax.js';
import type { StabilityScorer } from '../../thermo/stability.js';
import { matchStructures } from '../match.js';
import type { DngStructureReport } from './evaluate.js';

export const STABILITY_LABEL = 'M3GNet-MP-2021.2.8 relaxation + MP-20 DFT hull (MP2020)';

export interface DngStabilityOptions {
  potential: BatchPotential;
  scorer: StabilityScorer;
  fmax?: number;
  maxSteps?: number;
  /** structures relaxed together (default 64) */
  batchSize?: number;
  /** relax at most this many of the valid structures (first ones in file order; default all) */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface DngStructureStability {
  index: number;
  converged: boolean;
  rmsd: number | null;
  formationEnergyPerAtom: number | null;
  eAboveHull: number | null;
  stable: boolean;
  sun: boolean;
}

export interface DngStabilityReport {
  label: string;
  generated: number;
  relaxed: number;
  converged: number;
  rmsdMean: number | null;
  unmatched: number;
  eHullMean: number | null;
  stablePercent: number | null;
  stableAt0Percent: number | null;
  sunPercent: number | null;
  /** what S.U.N. % is over: every generated structure, or (with a limit) the relaxed subset */
  sunOver: 'all generated' | 'relaxed subset';
  perStructure: DngStructureStability[];
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);

/** What the stability columns need of one relaxation: its final structure, raw energy (eV) and convergence. */
export interface RelaxOutcome {
  final: Structure;
  /** total potential energy of `final`, eV (non-finite: the potential failed; scored as not relaxed) */
  energy: number;
  converged: boolean;
}

/** Indices of the structures the stability columns relax: the structurally valid ones, in file order, up to `limit`. */
export function stabilityIndices(structures: ReadonlyArray<Structure | null>, reports: readonly DngStructureReport[], limit?: number): number[] {
  const idx = structures.flatMap((s, i) => (s && reports[i]?.structValid ? [i] : []));
  return limit === undefined ? idx : idx.slice(0, limit);
}

/** Scores one relaxation: RMSD generated → relaxed (MatterGen's matcher settings), E_hull, stable, S.U.N. */
function scoreOne(i: number, generated: Structure, r: RelaxOutcome, rep: DngStructureReport, scorer: StabilityScorer): DngStructureStability {
  const finite = Number.isFinite(r.energy);
  const st = finite ? scorer.score(r.final, r.energy) : null;
  let rmsd: number | null = null;
  if (finite) {
    const m = matchStructures(generated, r.final, { ltol: 0.5, stol: 0.5, angleTol: 10, scale: false, pymatgenGroundTruthOrder: false });
    if (m.match && m.rms !== null) rmsd = m.rms * Math.cbrt(volume(r.final.lattice) / r.final.species.length);
  }
  const eHull = st?.eAboveHull ?? null;
  const stable = eHull !== null && eHull <= 0.1;
  return {
    index: i, converged: r.converged, rmsd, formationEnergyPerAtom: st?.formationEnergyPerAtom ?? null, eAboveHull: eHull, stable,
    sun: stable && rep.valid && rep.duplicateOf === -1 && rep.trainMatch === '',
  };
}

function summarise(per: DngStructureStability[], n: number, reports: readonly DngStructureReport[], limit: number | undefined): DngStabilityReport {
  const hulls = per.flatMap((p) => (p.eAboveHull === null ? [] : [p.eAboveHull]));
  const rmsds = per.flatMap((p) => (p.rmsd === null ? [] : [p.rmsd]));
  return {
    label: STABILITY_LABEL,
    generated: n,
    relaxed: per.length,
    converged: per.filter((p) => p.converged).length,
    rmsdMean: mean(rmsds),
    unmatched: per.filter((p) => p.rmsd === null).length,
    eHullMean: mean(hulls),
    stablePercent: hulls.length ? (100 * hulls.filter((e) => e <= 0.1).length) / hulls.length : null,
    stableAt0Percent: hulls.length ? (100 * hulls.filter((e) => e <= 0).length) / hulls.length : null,
    // S.U.N. needs uniqueness and novelty; without them (--no-matching, no training split) it is not reported
    sunPercent: reports.some((r) => r.valid && r.trainMatch !== null) && n > 0 ? (100 * per.filter((p) => p.sun).length) / (limit === undefined ? n : Math.max(1, per.length)) : null,
    sunOver: limit === undefined ? 'all generated' : 'relaxed subset',
    perStructure: per,
  };
}

/** Relaxes the structurally valid generated structures (batches of `batchSize`) and scores them. */
export function dngStability(structures: ReadonlyArray<Structure | null>, reports: readonly DngStructureReport[], o: DngStabilityOptions): DngStabilityReport {
  const idx = stabilityIndices(structures, reports, o.limit);
  const batch = o.batchSize ?? 64;
  const per: DngStructureStability[] = [];
  for (let start = 0; start < idx.length; start += batch) {
    const chunk = idx.slice(start, start + batch);
    // a structure with an element the potential does not cover is counted as not relaxed, not a batch failure
    const relaxable = chunk.filter((i) => uncoveredElements(o.potential, structures[i]!).length === 0);
    const results = relaxStructures(relaxable.map((i) => structures[i]!), o.potential, { fmax: o.fmax ?? 0.05, maxSteps: o.maxSteps ?? 500 });
    const byIndex = new Map(relaxable.map((i, k) => [i, results[k]!]));
    for (const i of chunk) {
      const r = byIndex.get(i) ?? { final: structures[i]!, energy: Number.NaN, converged: false };
      per.push(scoreOne(i, structures[i]!, r, reports[i]!, o.scorer));
    }
    o.onProgress?.(Math.min(idx.length, start + batch), idx.length);
  }
  return summarise(per, structures.length, reports, o.limit);
}

/**
 * The same columns from relaxations done elsewhere (`kldm relax --jsonl`, resumable and shardable over
 * a queue), looked up by structure index: every structure `stabilityIndices` selects must have one.
 */
export function dngStabilityFromRelaxed(
  structures: ReadonlyArray<Structure | null>,
  reports: readonly DngStructureReport[],
  relaxed: (index: number) => RelaxOutcome | undefined,
  o: { scorer: StabilityScorer; limit?: number },
): DngStabilityReport {
  const idx = stabilityIndices(structures, reports, o.limit);
  const per = idx.map((i) => {
    const r = relaxed(i);
    if (!r) throw new Error(`no relaxation for generated structure ${i}`);
    return scoreOne(i, structures[i]!, r, reports[i]!, o.scorer);
  });
  return summarise(per, structures.length, reports, o.limit);
}
