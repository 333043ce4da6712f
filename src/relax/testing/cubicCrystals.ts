/**
 * Conventional cubic cells of the structure types in the M3GNet model card's cubic benchmark
 * (../shared/reference/m3gnet/cubic_lattice_dev.csv): FCC, BCC, diamond, zinc blende, halite and
 * cubic perovskite, for a formula and a lattice constant. Test support for relaxation checks.
 */
import type { Structure } from '../../crystal/types.js';
import { parseFormula } from '../../crystal/composition.js';

const FCC = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];
const shift = (ps: number[][], d: number[]): number[][] => ps.map((p) => p.map((x, k) => (x + d[k]!) % 1));

export function cubicCrystal(formula: string, kind: string, a: number): Structure {
  // nonstoichiometric entries (ZrC0.97) are built as the ideal compound
  const comp = parseFormula(formula.replace(/(\d*\.\d+)/g, ''), { maxAtoms: 100 });
  const el = comp.elements.map(String);
  let sites: [string, number[]][];
  switch (kind) {
    case 'FCC':
      sites = FCC.map((p) => [el[0]!, p]);
      break;
    case 'BCC':
      sites = [[el[0]!, [0, 0, 0]], [el[0]!, [0.5, 0.5, 0.5]]];
      break;
    case 'Diamond (FCC)':
      sites = [...FCC, ...shift(FCC, [0.25, 0.25, 0.25])].map((p) => [el[0]!, p]);
      break;
    case 'Zinc blende (FCC)':
      sites = [...FCC.map((p): [string, number[]] => [el[0]!, p]), ...shift(FCC, [0.25, 0.25, 0.25]).map((p): [string, number[]] => [el[1]!, p])];
      break;
    case 'Halite':
      sites = [...FCC.map((p): [string, number[]] => [el[0]!, p]), ...shift(FCC, [0.5, 0, 0]).map((p): [string, number[]] => [el[1]!, p])];
      break;
    case 'Cubic perovskite': {
      // ABX3: A at the corner, B at the body centre, X at the face centres
      sites = [[el[0]!, [0, 0, 0]], [el[1]!, [0.5, 0.5, 0.5]], [el[2]!, [0.5, 0.5, 0]], [el[2]!, [0.5, 0, 0.5]], [el[2]!, [0, 0.5, 0.5]]];
      break;
    }
    default:
      throw new Error(`unknown cubic structure type "${kind}"`);
  }
  return { lattice: [a, 0, 0, 0, a, 0, 0, 0, a], species: sites.map((s) => s[0]), frac: Float64Array.from(sites.flatMap((s) => s[1])) };
}
