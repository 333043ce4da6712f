/**
 * Thermodynamic stability of a relaxed crystal (issue #15, spec §10.2): formation energy from the
 * M3GNet potential with MP2020 corrections, and energy above the MP-20 convex hull.
 *
 *   E_f = (E_M3GNet + ΔE_MP2020 − Σ_el n_el μ_el) / N
 *   E_hull = E_f − hull(composition)            (hull: MP-20's DFT formation energies, hull.ts)
 *
 * μ_el, the elemental references, are the potential's own energies per atom of the lowest elemental
 * phase of each element in MP-20 (every split), each relaxed with the same FIRE + cell filter
 * (fmax 0.05 eV/Å, 300 steps): formation energies are then differences of energies of one model, as
 * MP's are of one DFT setting. They are computed on first use (about a minute) and cached in
 * $KLDM_HOME/cache/thermo, keyed by the potential's and the dataset files' identity.
 *
 * What this is, in tables: "M3GNet-MP-2021.2.8 relaxation + MP-20 DFT hull (MP2020)": not the
 * MatterSim / Alex-MP numbers of the paper's table.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Structure } from '../crystal/types.js';
import { readCif } from '../crystal/io/cif.js';
import { readSplitSource } from '../data/source.js';
import { getSplit } from '../data/registry.js';
import { derivedCacheDir } from '../assets/home.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { BatchPotential } from '../potential/types.js';
import { relaxStructures } from '../relax/relax.js';
import { ConvexHull } from './hull.js';
import { mp2020Correction } from './mp2020.js';
import { mp20HullEntries } from './mp20Hull.js';

export interface ElementalReferences {
  /** what the energies come from, for the cache key and reports */
  potential: string;
  /** element → the lowest relaxed energy per atom among MP-20's phases of that element */
  mu: Record<string, { energyPerAtom: number; materialId: string }>;
}

/** MP-20's single-element structures, every split */
export function mp20ElementalPhases(): { id: string; structure: Structure }[] {
  const out: { id: string; structure: Structure }[] = [];
  for (const split of ['train', 'val', 'test']) {
    const src = readSplitSource('mp_20', split);
    src.cifs.forEach((cif, k) => {
      if (!cif) return;
      const s = readCif(cif);
      if (new Set(s.species).size === 1) out.push({ id: src.materialIds[k]!, structure: { lattice: s.lattice, species: s.species, frac: s.frac } });
    });
  }
  return out;
}

export function computeElementalReferences(potential: BatchPotential, potentialName: string, onProgress?: (line: string) => void): ElementalReferences {
  const phases = mp20ElementalPhases();
  onProgress?.(`thermo: relaxing ${phases.length} elemental phases of MP-20 for the elemental references (once; cached)`);
  const relaxed = relaxStructures(phases.map((p) => p.structure), potential, { fmax: 0.05, maxSteps: 300 });
  const mu: ElementalReferences['mu'] = {};
  relaxed.forEach((r, k) => {
    const el = phases[k]!.structure.species[0]!;
    if (!Number.isFinite(r.energyPerAtom)) return;
    if (!mu[el] || r.energyPerAtom < mu[el]!.energyPerAtom) mu[el] = { energyPerAtom: r.energyPerAtom, materialId: phases[k]!.id };
  });
  return { potential: potentialName, mu };
}

/** cache key: the potential's name and the dataset files (size + mtime) */
function referencesKey(potentialName: string): string {
  const h = createHash('sha256').update(potentialName);
  for (const split of ['train', 'val', 'test']) {
    const p = getSplit('mp_20', split).path;
    const st = statSync(p);
    h.update(`${p}:${st.size}:${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

export function elementalReferences(potential: BatchPotential, potentialName: string, onProgress?: (line: string) => void): ElementalReferences {
  const path = join(derivedCacheDir('thermo'), `elemental-${potentialName}-${referencesKey(potentialName)}.json`);
  if (existsSync(path)) {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as ElementalReferences;
    } catch {
      // a damaged cache is recomputed
    }
  }
  const refs = computeElementalReferences(potential, potentialName, onProgress);
  writeFileAtomic(path, JSON.stringify(refs, null, 1) + '\n');
  return refs;
}

export interface StabilityResult {
  /** formation energy per atom with MP2020 corrections, eV/atom (null: an element without reference) */
  formationEnergyPerAtom: number | null;
  /** energy above the MP-20 hull, eV/atom */
  eAboveHull: number | null;
  /** MP2020 correction of the cell, eV */
  correction: number;
  note?: string;
}

export class StabilityScorer {
  private constructor(readonly refs: ElementalReferences, private readonly hull: ConvexHull, readonly hullEntries: number, readonly hullSkipped: number) {}

  /** hullSplits: the MP-20 splits whose DFT formation energies form the hull (default all; the calibration uses train + val) */
  static async create(potential: BatchPotential, potentialName: string, opts: { onProgress?: (line: string) => void; hullSplits?: string[] } = {}): Promise<StabilityScorer> {
    const refs = elementalReferences(potential, potentialName, opts.onProgress);
    const { entries, skipped } = mp20HullEntries(opts.hullSplits);
    return new StabilityScorer(refs, await ConvexHull.create(entries), entries.length, skipped);
  }

  /** a scorer from given references and hull (tests, other reference sets) */
  static fromParts(refs: ElementalReferences, hull: ConvexHull): StabilityScorer {
    return new StabilityScorer(refs, hull, NaN, 0);
  }

  /** scores a relaxed structure from its raw potential energy (eV per cell) */
  score(s: Structure, rawEnergy: number): StabilityResult {
    const corr = mp2020Correction(s);
    const counts = new Map<string, number>();
    for (const el of s.species) counts.set(el, (counts.get(el) ?? 0) + 1);
    let refSum = 0;
    for (const [el, n] of counts) {
      const mu = this.refs.mu[el];
      if (!mu) return { formationEnergyPerAtom: null, eAboveHull: null, correction: corr.energy, note: `no elemental phase of ${el} in MP-20` };
      refSum += n * mu.energyPerAtom;
    }
    const ef = (rawEnergy + corr.energy - refSum) / s.species.length;
    const comp = Object.fromEntries(counts);
    return { formationEnergyPerAtom: ef, eAboveHull: this.hull.eAboveHull(comp, ef), correction: corr.energy };
  }
}
