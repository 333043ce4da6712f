/**
 * SMACT composition validity as used by DiffCSP / CDVAE (`smact_validity` in
 * their eval utils; spec §9 "Differences from DiffCSP", §13.15): a composition
 * passes if it is a single element, if every element is a metal (alloy), or if
 * some choice of one oxidation state per element (SMACT's default table) makes
 * the gcd-reduced formula charge neutral AND passes the Pauling test (every
 * cation less electronegative than every anion).
 *
 * Data (src/eval/data/smact.json): SMACT's oxidation_states.txt, the el_neg
 * column of element_data.txt and its `metals` list, from the 2021 SMACT release
 * line DiffCSP evaluated with (MIT licence). Note that table's Zr
 * electronegativity (0.33, later corrected to 1.33): kept, because the published
 * ceilings (e.g. 3,732 / 3,785 valid Perov-5 test compositions) were computed with it.
 */
import smactData from './data/smact.json' with { type: 'json' };

interface SmactTables {
  oxidationStates: Record<string, number[]>;
  paulingEneg: Record<string, number | null>;
  metals: string[];
}

const tables = smactData as unknown as SmactTables;
const METALS = new Set(tables.metals);

/** DiffCSP's smact_validity: `if oxn > 1e7: return False` (spec §10.1). */
const MAX_OXIDATION_COMBINATIONS = 1e7;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * SMACT's eneg_states_test as DiffCSP ran it: pairs in order; a cation/anion pair
 * with the cation not less electronegative fails. Where an electronegativity is
 * missing, SMACT either raises TypeError (opposite signs: DiffCSP catches it and
 * counts the combination as passing) or returns False (same signs).
 */
function paulingTest(ox: readonly number[], eneg: ReadonlyArray<number | null>): boolean {
  for (let i = 0; i < ox.length; i++) {
    for (let j = i + 1; j < ox.length; j++) {
      const o1 = ox[i]!;
      const o2 = ox[j]!;
      const e1 = eneg[i];
      const e2 = eneg[j];
      if (o1 > 0 && o2 < 0) {
        if (e1 == null || e2 == null) return true; // TypeError in SMACT, caught by DiffCSP → ok
        if (e1 >= e2) return false;
      } else if (o1 < 0 && o2 > 0) {
        if (e1 == null || e2 == null) return true;
        if (e1 <= e2) return false;
      } else if (e1 == null || e2 == null) {
        return false;
      }
    }
  }
  return true;
}

/**
 * DiffCSP's smact_validity for a list of site species (any order): elements
 * ordered by atomic number as DiffCSP does, counts reduced by their gcd.
 * Unknown elements (not in SMACT's tables) make the composition invalid.
 */
export function smactValid(species: readonly string[], atomicNumber: (symbol: string) => number): boolean {
  const counts = new Map<string, number>();
  for (const s of species) counts.set(s, (counts.get(s) ?? 0) + 1);
  const elems = [...counts.keys()].sort((a, b) => atomicNumber(a) - atomicNumber(b));
  if (elems.length === 0) return false;
  if (elems.length === 1) return true;
  if (elems.every((e) => METALS.has(e))) return true;
  const g = elems.map((e) => counts.get(e)!).reduce(gcd);
  const stoich = elems.map((e) => counts.get(e)! / g);
  const oxLists = elems.map((e) => tables.oxidationStates[e]);
  if (oxLists.some((l) => l === undefined || l.length === 0)) return false;
  // DiffCSP gives up (invalid) when the product of the numbers of oxidation states exceeds 1e7
  if (oxLists.reduce((acc, l) => acc * l!.length, 1) > MAX_OXIDATION_COMBINATIONS) return false;
  const eneg = elems.map((e) => tables.paulingEneg[e] ?? null);
  // iterate over the product of oxidation-state choices
  const idx = new Array<number>(elems.length).fill(0);
  const ox = new Array<number>(elems.length);
  for (;;) {
    let charge = 0;
    for (let k = 0; k < elems.length; k++) {
      ox[k] = oxLists[k]![idx[k]!]!;
      charge += ox[k]! * stoich[k]!;
    }
    if (charge === 0 && paulingTest(ox, eneg)) return true;
    let k = elems.length - 1;
    while (k >= 0 && ++idx[k]! >= oxLists[k]!.length) {
      idx[k] = 0;
      k--;
    }
    if (k < 0) return false;
  }
}
