/**
 * Periodic table, Z = 1..100 (the element range of the benchmark data and of the
 * type embedding, spec §1.5 / §13.12).
 *
 * Data: symbol, name, standard atomic mass (u), covalent radius (Å), empirical
 * atomic radius (Å) and Pauling electronegativity. The values were exported once
 * from the periodic-table data that ships with matterviz-wasm (ferrox, MIT; the
 * same numbers as pymatgen's periodic_table.json) so that kldm needs no WASM
 * call for an element lookup. `null` = the source has no value.
 *
 * Browser-safe (no Node imports): the web page bundles this module.
 */
import { InputError } from '../util/errors.js';

export interface ElementInfo {
  /** atomic number */
  Z: number;
  symbol: string;
  name: string;
  /** standard atomic mass in u */
  mass: number;
  /** covalent radius in Å (null where unknown: Bk..Fm) */
  covalentRadius: number | null;
  /** empirical atomic radius in Å (null where unknown) */
  atomicRadius: number | null;
  /** Pauling electronegativity (null for noble gases and a few others) */
  electronegativity: number | null;
}

export const MAX_Z = 100;

// [symbol, name, mass, covalentRadius, atomicRadius, electronegativity], index = Z - 1
type Row = [string, string, number, number | null, number | null, number | null];
const ROWS: Row[] = [
  ["H", "Hydrogen", 1.008, 0.31, 0.25, 2.2],
  ["He", "Helium", 4.0026022, 0.28, null, null],
  ["Li", "Lithium", 6.94, 1.28, 1.45, 0.98],
  ["Be", "Beryllium", 9.01218315, 0.96, 1.05, 1.57],
  ["B", "Boron", 10.81, 0.84, 0.85, 2.04],
  ["C", "Carbon", 12.011, 0.76, 0.7, 2.55],
  ["N", "Nitrogen", 14.007, 0.71, 0.65, 3.04],
  ["O", "Oxygen", 15.999, 0.66, 0.6, 3.44],
  ["F", "Fluorine", 18.9984031636, 0.57, 0.5, 3.98],
  ["Ne", "Neon", 20.17976, 0.58, null, null],
  ["Na", "Sodium", 22.989769282, 1.66, 1.8, 0.93],
  ["Mg", "Magnesium", 24.305, 1.41, 1.5, 1.31],
  ["Al", "Aluminium", 26.98153857, 1.21, 1.25, 1.61],
  ["Si", "Silicon", 28.085, 1.11, 1.1, 1.9],
  ["P", "Phosphorus", 30.9737619985, 1.07, 1, 2.19],
  ["S", "Sulfur", 32.06, 1.05, 1, 2.58],
  ["Cl", "Chlorine", 35.45, 1.02, 1, 3.16],
  ["Ar", "Argon", 39.9481, 1.06, 0.71, null],
  ["K", "Potassium", 39.09831, 2.03, 2.2, 0.82],
  ["Ca", "Calcium", 40.0784, 1.76, 1.8, 1],
  ["Sc", "Scandium", 44.9559085, 1.7, 1.6, 1.36],
  ["Ti", "Titanium", 47.8671, 1.6, 1.4, 1.54],
  ["V", "Vanadium", 50.94151, 1.53, 1.35, 1.63],
  ["Cr", "Chromium", 51.99616, 1.39, 1.4, 1.66],
  ["Mn", "Manganese", 54.9380443, 1.39, 1.4, 1.55],
  ["Fe", "Iron", 55.8452, 1.32, 1.4, 1.83],
  ["Co", "Cobalt", 58.9331944, 1.26, 1.35, 1.88],
  ["Ni", "Nickel", 58.69344, 1.24, 1.35, 1.91],
  ["Cu", "Copper", 63.5463, 1.32, 1.35, 1.9],
  ["Zn", "Zinc", 65.382, 1.22, 1.35, 1.65],
  ["Ga", "Gallium", 69.7231, 1.22, 1.3, 1.81],
  ["Ge", "Germanium", 72.6308, 1.2, 1.25, 2.01],
  ["As", "Arsenic", 74.9215956, 1.19, 1.15, 2.18],
  ["Se", "Selenium", 78.9718, 1.2, 1.15, 2.55],
  ["Br", "Bromine", 79.904, 1.2, 1.15, 2.96],
  ["Kr", "Krypton", 83.7982, 1.16, null, 3],
  ["Rb", "Rubidium", 85.46783, 2.2, 2.35, 0.82],
  ["Sr", "Strontium", 87.621, 1.95, 2, 0.95],
  ["Y", "Yttrium", 88.905842, 1.9, 1.8, 1.22],
  ["Zr", "Zirconium", 91.2242, 1.75, 1.55, 1.33],
  ["Nb", "Niobium", 92.906372, 1.64, 1.45, 1.6],
  ["Mo", "Molybdenum", 95.951, 1.54, 1.45, 2.16],
  ["Tc", "Technetium", 98, 1.47, 1.35, 1.9],
  ["Ru", "Ruthenium", 101.072, 1.46, 1.3, 2.2],
  ["Rh", "Rhodium", 102.905502, 1.42, 1.35, 2.28],
  ["Pd", "Palladium", 106.421, 1.39, 1.4, 2.2],
  ["Ag", "Silver", 107.86822, 1.45, 1.6, 1.93],
  ["Cd", "Cadmium", 112.4144, 1.44, 1.55, 1.69],
  ["In", "Indium", 114.8181, 1.42, 1.55, 1.78],
  ["Sn", "Tin", 118.7107, 1.39, 1.45, 1.96],
  ["Sb", "Antimony", 121.7601, 1.39, 1.45, 2.05],
  ["Te", "Tellurium", 127.603, 1.38, 1.4, 2.1],
  ["I", "Iodine", 126.904473, 1.39, 1.4, 2.66],
  ["Xe", "Xenon", 131.2936, 1.4, null, 2.6],
  ["Cs", "Cesium", 132.905451966, 2.44, 2.6, 0.79],
  ["Ba", "Barium", 137.3277, 2.15, 2.15, 0.89],
  ["La", "Lanthanum", 138.905477, 2.07, 1.95, 1.1],
  ["Ce", "Cerium", 140.1161, 2.04, 1.85, 1.12],
  ["Pr", "Praseodymium", 140.907662, 2.03, 1.85, 1.13],
  ["Nd", "Neodymium", 144.2423, 2.01, 1.85, 1.14],
  ["Pm", "Promethium", 145, 1.99, 1.85, null],
  ["Sm", "Samarium", 150.362, 1.98, 1.85, 1.17],
  ["Eu", "Europium", 151.9641, 1.98, 1.85, null],
  ["Gd", "Gadolinium", 157.253, 1.96, 1.8, 1.2],
  ["Tb", "Terbium", 158.925352, 1.94, 1.75, null],
  ["Dy", "Dysprosium", 162.5001, 1.92, 1.75, 1.22],
  ["Ho", "Holmium", 164.930332, 1.92, 1.75, 1.23],
  ["Er", "Erbium", 167.2593, 1.89, 1.75, 1.24],
  ["Tm", "Thulium", 168.934222, 1.9, 1.75, 1.25],
  ["Yb", "Ytterbium", 173.0451, 1.87, 1.75, null],
  ["Lu", "Lutetium", 174.96681, 1.87, 1.75, 1.27],
  ["Hf", "Hafnium", 178.492, 1.75, 1.55, 1.3],
  ["Ta", "Tantalum", 180.947882, 1.7, 1.45, 1.5],
  ["W", "Tungsten", 183.841, 1.62, 1.35, 2.36],
  ["Re", "Rhenium", 186.2071, 1.51, 1.35, 1.9],
  ["Os", "Osmium", 190.233, 1.44, 1.3, 2.2],
  ["Ir", "Iridium", 192.2173, 1.41, 1.35, 2.2],
  ["Pt", "Platinum", 195.0849, 1.36, 1.35, 2.28],
  ["Au", "Gold", 196.9665695, 1.36, 1.35, 2.54],
  ["Hg", "Mercury", 200.5923, 1.32, 1.5, 2],
  ["Tl", "Thallium", 204.38, 1.45, 1.9, 1.62],
  ["Pb", "Lead", 207.21, 1.46, 1.8, 2.33],
  ["Bi", "Bismuth", 208.980401, 1.48, 1.6, 2.02],
  ["Po", "Polonium", 209, 1.4, 1.9, 2],
  ["At", "Astatine", 210, 1.5, null, 2.2],
  ["Rn", "Radon", 222, 1.5, null, null],
  ["Fr", "Francium", 223, 2.6, null, 0.7],
  ["Ra", "Radium", 226, 2.21, null, 0.9],
  ["Ac", "Actinium", 227, 2.15, null, 1.1],
  ["Th", "Thorium", 232.03774, 2.06, null, 1.3],
  ["Pa", "Protactinium", 231.035882, 2, null, 1.5],
  ["U", "Uranium", 238.028913, 1.96, null, 1.38],
  ["Np", "Neptunium", 237, 1.9, null, 1.36],
  ["Pu", "Plutonium", 244, 1.87, null, 1.28],
  ["Am", "Americium", 243, 1.8, null, 1.3],
  ["Cm", "Curium", 247, 1.69, null, 1.3],
  ["Bk", "Berkelium", 247, null, null, 1.3],
  ["Cf", "Californium", 251, null, null, 1.3],
  ["Es", "Einsteinium", 252, null, null, 1.3],
  ["Fm", "Fermium", 257, null, null, 1.3],
];

/** All elements, index = Z - 1. */
export const ELEMENTS: readonly ElementInfo[] = ROWS.map(([symbol, name, mass, covalentRadius, atomicRadius, electronegativity], i) => ({
  Z: i + 1,
  symbol,
  name,
  mass,
  covalentRadius,
  atomicRadius,
  electronegativity,
}));

const BY_SYMBOL = new Map<string, ElementInfo>(ELEMENTS.map((e) => [e.symbol, e]));
const BY_LOWER = new Map<string, ElementInfo>(ELEMENTS.map((e) => [e.symbol.toLowerCase(), e]));

/** True if `symbol` is an element symbol of Z 1..100, exactly as written (case-sensitive: "Fe", not "FE"). */
export function isElementSymbol(symbol: string): boolean {
  return BY_SYMBOL.has(symbol);
}

/** The element with this symbol; InputError naming the symbol (and the intended spelling if only the case is wrong). */
export function elementBySymbol(symbol: string, context = ''): ElementInfo {
  const e = BY_SYMBOL.get(symbol);
  if (e) return e;
  const where = context ? `${context}: ` : '';
  const caseFix = BY_LOWER.get(symbol.toLowerCase());
  if (caseFix) throw new InputError(`${where}unknown element symbol "${symbol}"; did you mean "${caseFix.symbol}"?`);
  throw new InputError(`${where}unknown element symbol "${symbol}"; kldm supports elements Z = 1..${MAX_Z} (H..Fm)`);
}

/** The element with atomic number Z (1..100). */
export function elementByZ(Z: number, context = ''): ElementInfo {
  if (!Number.isInteger(Z) || Z < 1 || Z > MAX_Z) {
    throw new InputError(`${context ? `${context}: ` : ''}atomic number ${Z} is outside 1..${MAX_Z}`);
  }
  return ELEMENTS[Z - 1]!;
}

export function atomicNumber(symbol: string, context = ''): number {
  return elementBySymbol(symbol, context).Z;
}

export function elementSymbol(Z: number, context = ''): string {
  return elementByZ(Z, context).symbol;
}
