/**
 * The DNG proxy metrics of spec §10.1 (DiffCSP `GenEval`, KLDM `metrics/dng.py`) on a set of generated
 * crystals, plus uniqueness and novelty:
 *   validity (structural, SMACT composition, overall), COV-R / COV-P (+ AMSD/AMCD) against the reference
 *   split, Wasserstein-1 distances of density and of the number of distinct elements (DiffCSP protocol:
 *   1,000 valid samples drawn with a fixed seed; also the figure over all valid samples), uniqueness
 *   within the generated set and novelty against the training split.
 */
import type { Structure } from '../../crystal/types.js';
import { fromParameters } from '../../crystal/lattice.js';
import { elementSymbol } from '../../crystal/elements.js';
import { loadSplit } from '../../data/prepare.js';
import { getDataset } from '../../data/registry.js';
import { Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import { loadFerrox, readCifForMatching } from '../cifReader.js';
import { evaluateCrystal, type CrystalRecord } from './crystalRecord.js';
import { computeCoverage, type CoverageCutoffs } from './coverage.js';
import { wasserstein1 } from './wasserstein.js';
import { DEFAULT_DUPLICATE_MATCHER, findDuplicates, ReferenceIndex } from './duplicates.js';
import { loadReferenceSet, type ReferenceSet } from './referenceSet.js';
import type { MagpieTables } from './magpie.js';
import constants from './data/dngConstants.json' with { type: 'json' };

export interface GeneratedInput {
  id: string;
  /** CIF text, or null when the line carried none (counted invalid) */
  cif: string | null;
  /** why the input could not be used, when cif is null */
  malformed?: string;
}

export interface DngOptions {
  dataset: string;
  magpie: MagpieTables;
  /** reference split for COV and the distribution distances (DiffCSP: test) */
  referenceSplit?: string;
  /** split for novelty (default train); null skips novelty */
  trainSplit?: string | null;
  /** valid samples drawn for the DiffCSP-protocol distances (default 1000) */
  nSamples?: number;
  seed?: number;
  /** override the dataset's COV cut-offs (required for datasets without published ones) */
  cutoffs?: CoverageCutoffs;
  /**
   * KLDM's variant: only valid structures take part in COV (DiffCSP, the default, uses every structure it
   * could fingerprint, valid or not; COV-P's denominator is all generated structures either way)
   */
  coverageValidOnly?: boolean;
  /** skip uniqueness/novelty (they need the structure matcher) */
  skipMatching?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
  /** pre-computed reference set (tests) */
  reference?: ReferenceSet;
  /** pre-loaded training structures (tests) */
  train?: Structure[];
}

export interface DngStructureReport {
  id: string;
  constructed: boolean;
  compValid: boolean;
  structValid: boolean;
  valid: boolean;
  reason?: string;
  density: number | null;
  nElements: number | null;
  /** nearest reference fingerprint distances (null without fingerprints) */
  nearestStructDist: number | null;
  nearestCompDist: number | null;
  /** valid structures only: index of the earlier generated structure it duplicates, -1 if unique */
  duplicateOf: number | null;
  /** valid structures only: material id of a matching training structure, "" if novel */
  trainMatch: string | null;
}

export interface DngReport {
  task: 'dng';
  dataset: string;
  referenceSplit: string;
  trainSplit: string | null;
  counts: { generated: number; constructed: number; valid: number; reference: number; referenceFailures: number };
  validity: { struct: number; comp: number; overall: number };
  coverage: { cutoffs: CoverageCutoffs; validOnly: boolean; covRecall: number; covPrecision: number; amsdRecall: number; amsdPrecision: number; amcdRecall: number; amcdPrecision: number } | null;
  wasserstein: {
    /** DiffCSP protocol: nSamples valid structures drawn with the seed; null when fewer are valid */
    sampled: { n: number; seed: number; density: number; nElements: number } | null;
    /** all valid generated structures */
    allValid: { n: number; density: number; nElements: number } | null;
  };
  uniqueness: { matcher: typeof DEFAULT_DUPLICATE_MATCHER; uniqueValid: number; rate: number } | null;
  novelty: { novelValid: number; rate: number; uniqueNovelValid: number; uniqueNovelRate: number; uniqueNovelOfGenerated: number } | null;
  notes: string[];
  seconds: number;
  structures: DngStructureReport[];
}

/** Draw k of n indices without replacement (partial Fisher–Yates with the project's seeded RNG). */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  const rng = new Rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k);
}

function preparedToStructures(dataset: string, split: string): { ids: string[]; structures: Structure[] } {
  const p = loadSplit(dataset, split);
  const structures: Structure[] = [];
  for (let k = 0; k < p.materialIds.length; k++) {
    const a = p.atomOffsets[k]!;
    const b = p.atomOffsets[k + 1]!;
    const lattice = fromParameters({
      a: p.lengths[3 * k]!, b: p.lengths[3 * k + 1]!, c: p.lengths[3 * k + 2]!,
      alpha: p.angles[3 * k]!, beta: p.angles[3 * k + 1]!, gamma: p.angles[3 * k + 2]!,
    });
    const species = Array.from(p.atomTypes.subarray(a, b), (z) => elementSymbol(z));
    structures.push({ lattice, species, frac: Float64Array.from(p.frac.subarray(3 * a, 3 * b)) });
  }
  return { ids: p.materialIds, structures };
}

export async function evaluateDng(generated: readonly GeneratedInput[], options: DngOptions): Promise<DngReport> {
  const t0 = Date.now();
  const dataset = getDataset(options.dataset).name;
  const referenceSplit = options.referenceSplit ?? 'test';
  const nSamples = options.nSamples ?? 1000;
  const seed = options.seed ?? 42;
  const notes: string[] = [];
  if (generated.length === 0) throw new InputError('no generated structures to evaluate');
  const progress = options.onProgress ?? (() => {});

  // 1. generated structures: parse, validity, fingerprints
  await loadFerrox();
  const structures: Array<Structure | null> = [];
  const records: Array<CrystalRecord | null> = [];
  const reports: DngStructureReport[] = [];
  progress('generated', 0, generated.length);
  for (let i = 0; i < generated.length; i++) {
    const g = generated[i]!;
    let s: Structure | null = null;
    let reason: string | undefined = g.malformed;
    if (g.cif !== null) {
      try {
        s = readCifForMatching(g.cif, `generated ${g.id}`);
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
    }
    const rec = s ? evaluateCrystal(s, options.magpie) : null;
    structures.push(s);
    records.push(rec);
    const r: DngStructureReport = {
      id: g.id, constructed: s !== null, compValid: rec?.compValid ?? false, structValid: rec?.structValid ?? false, valid: rec?.valid ?? false,
      density: rec ? rec.density : null, nElements: rec ? rec.nElements : null,
      nearestStructDist: null, nearestCompDist: null, duplicateOf: null, trainMatch: null,
    };
    const why = rec ? rec.reason : reason ?? 'no structure';
    if (!r.valid && why !== undefined) r.reason = why;
    reports.push(r);
    progress('generated', i + 1, generated.length);
  }
  const n = generated.length;
  const validIdx = reports.map((r, i) => (r.valid ? i : -1)).filter((i) => i >= 0);

  // 2. reference split
  const reference = options.reference ?? (await loadReferenceSet(dataset, referenceSplit, options.magpie, { onProgress: (d, t) => progress('reference', d, t) }));
  if (reference.failures.length > 0) notes.push(`${reference.failures.length} reference structures could not be read or fingerprinted and are left out`);
  const refOk = reference.fingerprints.map((f, i) => (f ? i : -1)).filter((i) => i >= 0);

  // 3. coverage
  const cutoffs = options.cutoffs ?? (constants.covCutoffs as Record<string, CoverageCutoffs>)[dataset];
  let coverage: DngReport['coverage'] = null;
  if (!cutoffs) notes.push(`no published COV cut-offs for ${dataset}: pass them explicitly to compute coverage`);
  else if (refOk.length === 0) notes.push('no reference fingerprints: coverage skipped');
  else {
    progress('coverage', 0, 1);
    const cov = computeCoverage(records.map((r) => (r && (r.valid || !options.coverageValidOnly) ? r.fingerprints : null)), refOk.map((i) => reference.fingerprints[i]!), cutoffs);
    coverage = { cutoffs, validOnly: options.coverageValidOnly ?? false, covRecall: cov.covRecall, covPrecision: cov.covPrecision, amsdRecall: cov.amsdRecall, amsdPrecision: cov.amsdPrecision, amcdRecall: cov.amcdRecall, amcdPrecision: cov.amcdPrecision };
    cov.generatedNearest.forEach((x, i) => {
      if (x) {
        reports[i]!.nearestStructDist = x.struct;
        reports[i]!.nearestCompDist = x.comp;
      }
    });
    progress('coverage', 1, 1);
  }

  // 4. distribution distances
  const refDensity = [...reference.densities].filter((x) => Number.isFinite(x));
  const refNel = [...reference.nElements].filter((x) => Number.isFinite(x));
  const wasserstein: DngReport['wasserstein'] = { sampled: null, allValid: null };
  if (validIdx.length > 0 && refDensity.length > 0) {
    wasserstein.allValid = {
      n: validIdx.length,
      density: wasserstein1(validIdx.map((i) => reports[i]!.density!), refDensity),
      nElements: wasserstein1(validIdx.map((i) => reports[i]!.nElements!), refNel),
    };
    if (validIdx.length >= nSamples) {
      const pick = sampleIndices(validIdx.length, nSamples, seed).map((k) => validIdx[k]!);
      wasserstein.sampled = {
        n: nSamples, seed,
        density: wasserstein1(pick.map((i) => reports[i]!.density!), refDensity),
        nElements: wasserstein1(pick.map((i) => reports[i]!.nElements!), refNel),
      };
    } else notes.push(`only ${validIdx.length} valid structures (< ${nSamples}): the DiffCSP-protocol distances are not defined`);
  }

  // 5. uniqueness and novelty (valid structures only)
  let uniqueness: DngReport['uniqueness'] = null;
  let novelty: DngReport['novelty'] = null;
  if (!options.skipMatching && validIdx.length > 0) {
    progress('uniqueness', 0, 1);
    const dup = findDuplicates(structures.map((s, i) => (reports[i]!.valid ? s : null)), DEFAULT_DUPLICATE_MATCHER);
    let unique = 0;
    for (const i of validIdx) {
      reports[i]!.duplicateOf = dup.duplicateOf[i]!;
      if (dup.duplicateOf[i] === -1) unique++;
    }
    progress('uniqueness', 1, 1);
    uniqueness = { matcher: DEFAULT_DUPLICATE_MATCHER, uniqueValid: unique, rate: unique / validIdx.length };
    const trainSplit = options.trainSplit === undefined ? 'train' : options.trainSplit;
    if (trainSplit !== null) {
      let train: { ids: string[]; structures: Structure[] } | null = null;
      if (options.train) train = { ids: options.train.map((_, i) => `train-${i}`), structures: options.train };
      else {
        try {
          progress('training split', 0, 1);
          train = preparedToStructures(dataset, trainSplit);
          progress('training split', 1, 1);
        } catch (err) {
          notes.push(`novelty skipped: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (train) {
        progress('novelty', 0, validIdx.length);
        const index = new ReferenceIndex(train.structures);
        let novel = 0;
        let uniqueNovel = 0;
        for (let k = 0; k < validIdx.length; k++) {
          const i = validIdx[k]!;
          const m = index.findMatch(structures[i]!, DEFAULT_DUPLICATE_MATCHER);
          reports[i]!.trainMatch = m === -1 ? '' : train.ids[m]!;
          if (m === -1) {
            novel++;
            if (reports[i]!.duplicateOf === -1) uniqueNovel++;
          }
          progress('novelty', k + 1, validIdx.length);
        }
        novelty = { novelValid: novel, rate: novel / validIdx.length, uniqueNovelValid: uniqueNovel, uniqueNovelRate: uniqueNovel / validIdx.length, uniqueNovelOfGenerated: uniqueNovel / n };
      }
    }
  }

  const mean = (f: (r: DngStructureReport) => boolean): number => reports.filter(f).length / n;
  return {
    task: 'dng',
    dataset,
    referenceSplit,
    trainSplit: options.skipMatching ? null : options.trainSplit === undefined ? 'train' : options.trainSplit,
    counts: { generated: n, constructed: reports.filter((r) => r.constructed).length, valid: validIdx.length, reference: refOk.length, referenceFailures: reference.failures.length },
    validity: { struct: mean((r) => r.structValid), comp: mean((r) => r.compValid), overall: mean((r) => r.valid) },
    coverage,
    wasserstein,
    uniqueness,
    novelty,
    notes,
    seconds: (Date.now() - t0) / 1000,
    structures: reports,
  };
}
