/**
 * Energy above the convex hull in composition space (issue #15; the stability metric of spec
 * §10.2): for a composition x (atom fractions over its elements S) with formation energy e per atom,
 *
 *   E_hull = e − min { Σ λ_i e_i : Σ λ_i c_i = x, λ ≥ 0 }
 *
 * over the reference entries i whose elements are a subset of S (c_i their atom fractions, e_i their
 * formation energies per atom; every element is also a reference at 0 eV/atom). The minimum is the
 * lower convex hull at x (the cheapest mixture of known phases with the same overall composition),
 * found by linear programming with HiGHS (npm `highs`, the HiGHS solver compiled to WebAssembly)
 * rather than a d-dimensional convex hull as pymatgen's PhaseDiagram builds with qhull: one small LP
 * per query, no facets to enumerate, any number of elements. Checked against pymatgen's PhaseDiagram
 * (hull.test.ts).
 */
import highsImport, { type Highs } from 'highs';

// the package's types are ES-module types on a CommonJS entry; under NodeNext the default import is the loader at run time
const highsLoader = highsImport as unknown as () => Promise<Highs>;
import { InputError } from '../util/errors.js';

export interface HullEntry {
  id: string;
  /** element symbol → number of atoms (any positive amounts; only the fractions matter) */
  composition: Record<string, number>;
  /** formation energy per atom, eV/atom */
  energyPerAtom: number;
}

export interface HullAnswer {
  /** hull energy at the composition, eV/atom (≤ 0) */
  hullEnergy: number;
  /** the phases the composition decomposes into, with their atom fractions */
  decomposition: { id: string; fraction: number }[];
}

let solver: Promise<Highs> | undefined;

function fractions(comp: Record<string, number>, what: string): Map<string, number> {
  let total = 0;
  for (const [el, n] of Object.entries(comp)) {
    if (!(n >= 0) || !Number.isFinite(n)) throw new InputError(`${what}: amount of ${el} must be a finite non-negative number, got ${n}`);
    total += n;
  }
  if (!(total > 0)) throw new InputError(`${what}: empty composition`);
  const out = new Map<string, number>();
  for (const [el, n] of Object.entries(comp)) if (n > 0) out.set(el, n / total);
  return out;
}

const systemKey = (els: Iterable<string>): string => [...els].sort().join('-');

export class ConvexHull {
  /** chemical system ("Fe-O") → lowest entry per reduced composition */
  private readonly bySystem = new Map<string, { id: string; x: Map<string, number>; e: number }[]>();

  private constructor(private readonly highs: Highs, entries: readonly HullEntry[]) {
    const best = new Map<string, { id: string; x: Map<string, number>; e: number }>();
    for (const entry of entries) {
      if (!Number.isFinite(entry.energyPerAtom)) throw new InputError(`hull entry ${entry.id}: energy is not finite`);
      const x = fractions(entry.composition, `hull entry ${entry.id}`);
      const key = [...x].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([el, f]) => `${el}:${f.toFixed(10)}`).join(',');
      const prev = best.get(key);
      if (!prev || entry.energyPerAtom < prev.e) best.set(key, { id: entry.id, x, e: entry.energyPerAtom });
    }
    for (const v of best.values()) {
      const sys = systemKey(v.x.keys());
      let list = this.bySystem.get(sys);
      if (!list) this.bySystem.set(sys, (list = []));
      list.push(v);
    }
  }

  static async create(entries: readonly HullEntry[]): Promise<ConvexHull> {
    return new ConvexHull(await (solver ??= highsLoader()), entries);
  }

  /** reference entries within the elements (every subset of them), plus the elements at 0 eV/atom */
  private candidates(elements: string[]): { id: string; x: Map<string, number>; e: number }[] {
    const out: { id: string; x: Map<string, number>; e: number }[] = elements.map((el) => ({ id: el, x: new Map([[el, 1]]), e: 0 }));
    const n = elements.length;
    if (n > 12) throw new InputError(`hull: ${n} elements in one composition is more than this hull supports (12)`);
    for (let mask = 1; mask < 1 << n; mask++) {
      const els: string[] = [];
      for (let k = 0; k < n; k++) if (mask & (1 << k)) els.push(elements[k]!);
      const list = this.bySystem.get(systemKey(els));
      if (list) out.push(...list);
    }
    return out;
  }

  /** the lower hull at a composition */
  hullAt(composition: Record<string, number>): HullAnswer {
    const x = fractions(composition, 'hull query');
    const elements = [...x.keys()].sort();
    const cands = this.candidates(elements);
    // LP in CPLEX format: variables l0..lk ≥ 0
    const obj = cands.map((c, i) => `${c.e >= 0 ? '+' : '-'} ${Math.abs(c.e).toPrecision(17)} l${i}`).join(' ');
    const rows = elements.map((el, r) => {
      const terms = cands.map((c, i) => [c.x.get(el) ?? 0, i] as const).filter(([f]) => f > 0).map(([f, i]) => `+ ${f.toPrecision(17)} l${i}`).join(' ');
      return ` c${r}: ${terms} = ${x.get(el)!.toPrecision(17)}`;
    });
    const lp = `Minimize\n obj: ${obj}\nSubject To\n${rows.join('\n')}\nBounds\n${cands.map((_, i) => ` l${i} >= 0`).join('\n')}\nEnd\n`;
    const sol = this.highs.solve(lp, { primal_feasibility_tolerance: 1e-10, dual_feasibility_tolerance: 1e-10 });
    if (sol.Status !== 'Optimal') throw new Error(`hull LP at ${systemKey(elements)}: ${sol.Status}`);
    const decomposition: { id: string; fraction: number }[] = [];
    cands.forEach((c, i) => {
      const v = (sol.Columns as Record<string, { Primal: number }>)[`l${i}`]?.Primal ?? 0;
      if (v > 1e-9) decomposition.push({ id: c.id, fraction: v });
    });
    return { hullEnergy: sol.ObjectiveValue, decomposition };
  }

  /** energy above the hull (eV/atom); negative when the composition lies below the known hull */
  eAboveHull(composition: Record<string, number>, formationEnergyPerAtom: number): number {
    return formationEnergyPerAtom - this.hullAt(composition).hullEnergy;
  }
}
