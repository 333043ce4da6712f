/**
 * CIF reading and writing.
 *
 * Why a hand-written reader instead of ferrox's `parse_cif`: ferrox ignores
 * `_atom_site_occupancy` (a disordered CIF silently becomes overlapping full
 * sites) and accepts unknown element symbols, where the issue requires a clear
 * rejection; it also silently ignores a space-group symbol when no symmetry
 * operations are listed (we expand it from moyo's tables, ../spacegroup.ts,
 * as pymatgen does). It also needs async WASM initialisation, whereas
 * dataset preparation and the CLI want a synchronous parser. ferrox is still
 * used in the tests as an independent reader to cross-check this one.
 *
 * Semantics follow pymatgen 2025 `CifParser` (spec §1.2 step 1): the lattice is
 * built with `Lattice.from_parameters`; each atom-site row, in file order, is
 * expanded by the symmetry operations in listed order, coordinates are wrapped
 * to [0, 1) and images within 1e-4 (fractional, periodic) of an already
 * generated site of the same element are dropped. Site order is therefore
 * exactly the file order for P1 CIFs (the CSP matcher depends on it).
 * (Older pymatgen, e.g. 2022.x, additionally sorted sites by species.)
 */
import type { Matrix3, Structure } from '../types.js';
import { InputError } from '../../util/errors.js';
import { isElementSymbol, elementBySymbol } from '../elements.js';
import { fromParameters, toParameters, validateParameters, wrap01 } from '../lattice.js';
import { spaceGroupOperations, type SymmetryOperation } from '../spacegroup.js';

// ---------------------------------------------------------------- tokenizer

interface CifLoop {
  tags: string[];
  rows: string[][];
}

export interface CifBlock {
  name: string;
  /** single-valued items, tags lower-cased */
  items: Map<string, string>;
  loops: CifLoop[];
}

interface Token {
  text: string;
  /** a quoted or text-field value (never a keyword/tag) */
  quoted: boolean;
  line: number;
}

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!;
    if (line.startsWith(';')) {
      // semicolon text field: up to a line starting with ';'
      const parts = [line.slice(1)];
      let end = ln + 1;
      while (end < lines.length && !lines[end]!.startsWith(';')) parts.push(lines[end++]!);
      if (end >= lines.length) throw new InputError(`${source}: line ${ln + 1}: unterminated ';' text field`);
      tokens.push({ text: parts.join('\n'), quoted: true, line: ln + 1 });
      ln = end; // the closing ';' line (anything after it on that line is ignored)
      continue;
    }
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (c === ' ' || c === '\t') {
        i++;
        continue;
      }
      if (c === '#') break;
      if (c === "'" || c === '"') {
        // a quote closes only when followed by whitespace or end of line (CIF 1.1)
        let j = i + 1;
        while (j < line.length && !(line[j] === c && (j + 1 === line.length || /\s/.test(line[j + 1]!)))) j++;
        if (j >= line.length) throw new InputError(`${source}: line ${ln + 1}: unterminated ${c}quoted${c} string`);
        tokens.push({ text: line.slice(i + 1, j), quoted: true, line: ln + 1 });
        i = j + 1;
        continue;
      }
      let j = i;
      while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
      tokens.push({ text: line.slice(i, j), quoted: false, line: ln + 1 });
      i = j;
    }
  }
  return tokens;
}

/** Parses the data blocks of a CIF (tags lower-cased; `global_`/save frames are not supported). */
export function parseCifBlocks(text: string, source = 'CIF'): CifBlock[] {
  const tokens = tokenize(text, source);
  const blocks: CifBlock[] = [];
  let block: CifBlock | null = null;
  const need = (t: Token): CifBlock => {
    if (!block) throw new InputError(`${source}: line ${t.line}: "${t.text}" before the first data_ block`);
    return block;
  };
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    const lower = t.text.toLowerCase();
    if (!t.quoted && lower.startsWith('data_')) {
      block = { name: t.text.slice(5), items: new Map(), loops: [] };
      blocks.push(block);
      i++;
    } else if (!t.quoted && lower === 'loop_') {
      const b = need(t);
      i++;
      const tags: string[] = [];
      while (i < tokens.length && !tokens[i]!.quoted && tokens[i]!.text.startsWith('_')) tags.push(tokens[i++]!.text.toLowerCase());
      if (tags.length === 0) throw new InputError(`${source}: line ${t.line}: loop_ without tags`);
      const values: string[] = [];
      while (i < tokens.length) {
        const v = tokens[i]!;
        const vl = v.text.toLowerCase();
        if (!v.quoted && (v.text.startsWith('_') || vl === 'loop_' || vl.startsWith('data_'))) break;
        values.push(v.text);
        i++;
      }
      if (values.length % tags.length !== 0) {
        throw new InputError(`${source}: loop at line ${t.line} (${tags[0]}, ...) has ${values.length} values, not a multiple of its ${tags.length} tags`);
      }
      const rows: string[][] = [];
      for (let r = 0; r < values.length; r += tags.length) rows.push(values.slice(r, r + tags.length));
      b.loops.push({ tags, rows });
    } else if (!t.quoted && t.text.startsWith('_')) {
      const b = need(t);
      const v = tokens[i + 1];
      if (!v || (!v.quoted && (v.text.startsWith('_') || v.text.toLowerCase() === 'loop_' || v.text.toLowerCase().startsWith('data_')))) {
        throw new InputError(`${source}: line ${t.line}: tag ${t.text} has no value`);
      }
      b.items.set(lower, v.text);
      i += 2;
    } else {
      throw new InputError(`${source}: line ${t.line}: unexpected value "${t.text}" outside a loop`);
    }
  }
  return blocks;
}

// ---------------------------------------------------------------- values

/** CIF number: strips a standard uncertainty "1.234(5)"; '.' and '?' are missing values. */
function cifNumber(raw: string | undefined): number | null {
  if (raw === undefined || raw === '.' || raw === '?') return null;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\(\d+\))?$/.exec(raw.trim());
  return m ? Number(m[1]) : NaN;
}

function findLoop(block: CifBlock, tag: string): CifLoop | undefined {
  return block.loops.find((l) => l.tags.includes(tag));
}

/** Element from an atom-site type symbol or label: "Fe2+" -> Fe, "O1" -> O, "Fe3" -> Fe, "OW" -> O. */
function elementOf(raw: string): string | null {
  const m = /^([A-Za-z]{1,2})/.exec(raw);
  if (!m) return null;
  const two = m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1).toLowerCase();
  if (two.length === 2 && isElementSymbol(two)) return two;
  const one = two.charAt(0);
  return isElementSymbol(one) ? one : null;
}

// ---------------------------------------------------------------- symmetry operations

export type { SymmetryOperation } from '../spacegroup.js';

/** Parses an operation such as "x, y+1/2, -z" or "-x+y,1/2-x,z+0.25". */
export function parseSymmetryOperation(text: string, context = 'symmetry operation'): SymmetryOperation {
  const parts = text.replace(/\s+/g, '').toLowerCase().split(',');
  if (parts.length !== 3) throw new InputError(`${context}: "${text}" must have three comma-separated components`);
  const rotation = [0, 0, 0, 0, 0, 0, 0, 0, 0] as Matrix3;
  const translation: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const expr = parts[i]!;
    if (expr === '') throw new InputError(`${context}: "${text}" has an empty component`);
    const termRe = /([+-]?)(\d*\.?\d*(?:\/\d*\.?\d+)?)\*?([xyz]?)/g;
    let pos = 0;
    while (pos < expr.length) {
      termRe.lastIndex = pos;
      const m = termRe.exec(expr);
      if (!m || m.index !== pos || m[0].length === 0) throw new InputError(`${context}: cannot parse "${text}"`);
      pos += m[0].length;
      const sign = m[1] === '-' ? -1 : 1;
      const num = m[2]!;
      const axis = m[3]!;
      let value = 1;
      if (num !== '') {
        const [p, q] = num.split('/');
        value = q === undefined ? Number(p) : Number(p) / Number(q);
        if (!Number.isFinite(value)) throw new InputError(`${context}: bad number "${num}" in "${text}"`);
      }
      if (axis) rotation[3 * i + 'xyz'.indexOf(axis)] += sign * value;
      else if (num !== '') translation[i] += sign * value;
      else throw new InputError(`${context}: cannot parse "${text}"`);
    }
  }
  return { rotation, translation };
}

function isIdentity(op: SymmetryOperation): boolean {
  const r = op.rotation;
  return r[0] === 1 && r[4] === 1 && r[8] === 1 && r[1] === 0 && r[2] === 0 && r[3] === 0 && r[5] === 0 && r[6] === 0 && r[7] === 0 &&
    op.translation.every((t) => t === 0);
}

// ---------------------------------------------------------------- structure

export interface ReadCifOptions {
  /** name used in error messages (file path, "row 17 (mp-1234)", ...) */
  source?: string;
  /** which data block to read when there are several (default: the first) */
  blockIndex?: number;
  /** occupancies within this distance of 1 count as fully occupied (default 0.01) */
  occupancyTolerance?: number;
}

/** Sites closer than this (fractional, periodic, per coordinate) are the same position (pymatgen site_tolerance). */
const SITE_TOLERANCE = 1e-4;

/**
 * Bounds on the work of one CIF (found by fuzzing: a 1 MB CIF of many sites and symmetry
 * operations made the old all-pairs duplicate search run for minutes). Far above any crystal
 * kldm can sample or match.
 */
export const MAX_CIF_SITES = 10_000;
export const MAX_CIF_IMAGES = 500_000;

function samePosition(a: ArrayLike<number>, ai: number, b: readonly number[]): boolean {
  for (let k = 0; k < 3; k++) {
    let d = a[ai + k]! - b[k]!;
    d -= Math.round(d);
    if (Math.abs(d) > SITE_TOLERANCE) return false;
  }
  return true;
}

/**
 * The generated sites on a periodic grid of SITE_TOLERANCE-sized cells, so that finding the first
 * site at a position looks at 27 cells instead of every site. Answers exactly as a scan of all
 * sites in order would (lowest matching index).
 */
class SiteGrid {
  private static readonly N = Math.round(1 / SITE_TOLERANCE);
  private readonly cells = new Map<number, number[]>();

  private static cell(x: number): number {
    return Math.min(SiteGrid.N - 1, Math.floor(x * SiteGrid.N));
  }

  private static key(i: number, j: number, k: number): number {
    const n = SiteGrid.N;
    return (((i + n) % n) * n + ((j + n) % n)) * n + ((k + n) % n);
  }

  add(index: number, p: readonly number[]): void {
    const key = SiteGrid.key(SiteGrid.cell(p[0]!), SiteGrid.cell(p[1]!), SiteGrid.cell(p[2]!));
    const list = this.cells.get(key);
    if (list) list.push(index);
    else this.cells.set(key, [index]);
  }

  /** lowest index of a site within SITE_TOLERANCE (periodic) of p, or -1; p in [0, 1) */
  first(coords: ArrayLike<number>, p: readonly number[]): number {
    const [ci, cj, ck] = [SiteGrid.cell(p[0]!), SiteGrid.cell(p[1]!), SiteGrid.cell(p[2]!)];
    let best = -1;
    for (let di = -1; di <= 1; di++) {
      for (let dj = -1; dj <= 1; dj++) {
        for (let dk = -1; dk <= 1; dk++) {
          const list = this.cells.get(SiteGrid.key(ci + di, cj + dj, ck + dk));
          if (!list) continue;
          for (const s of list) if ((best < 0 || s < best) && samePosition(coords, 3 * s, p)) best = s;
        }
      }
    }
    return best;
  }
}

/** Reads one ordered crystal structure from CIF text. */
export function readCif(text: string, options: ReadCifOptions = {}): Structure & { name: string } {
  const source = options.source ?? 'CIF';
  const occTol = options.occupancyTolerance ?? 0.01;
  const blocks = parseCifBlocks(text, source);
  if (blocks.length === 0) throw new InputError(`${source}: no data_ block found (is this a CIF file?)`);
  const block = blocks[options.blockIndex ?? 0];
  if (!block) throw new InputError(`${source}: has ${blocks.length} data blocks, no block ${options.blockIndex}`);

  const cell = {} as Record<'a' | 'b' | 'c' | 'alpha' | 'beta' | 'gamma', number>;
  for (const [key, tag] of [['a', '_cell_length_a'], ['b', '_cell_length_b'], ['c', '_cell_length_c'], ['alpha', '_cell_angle_alpha'], ['beta', '_cell_angle_beta'], ['gamma', '_cell_angle_gamma']] as const) {
    const raw = block.items.get(tag);
    const v = cifNumber(raw);
    if (v === null) throw new InputError(`${source}: missing ${tag}`);
    if (!Number.isFinite(v)) throw new InputError(`${source}: ${tag} = "${raw}" is not a number`);
    cell[key] = v;
  }
  validateParameters(cell, source);
  const lattice = fromParameters(cell);

  // symmetry operations
  const opTags = ['_symmetry_equiv_pos_as_xyz', '_space_group_symop_operation_xyz', '_space_group_symop.operation_xyz'];
  let ops: SymmetryOperation[] = [];
  for (const tag of opTags) {
    const loop = findLoop(block, tag);
    if (loop) {
      const col = loop.tags.indexOf(tag);
      ops = loop.rows.map((r, k) => parseSymmetryOperation(r[col]!, `${source}: ${tag} row ${k + 1}`));
      break;
    }
    const single = block.items.get(tag);
    if (single !== undefined) {
      ops = [parseSymmetryOperation(single, `${source}: ${tag}`)];
      break;
    }
  }
  if (ops.length === 0) {
    const hmRaw = block.items.get('_symmetry_space_group_name_h-m') ?? block.items.get('_space_group_name_h-m_alt') ?? '';
    const hm = hmRaw === '?' || hmRaw === '.' ? '' : hmRaw.trim();
    const num = cifNumber(block.items.get('_symmetry_int_tables_number') ?? block.items.get('_space_group_it_number'));
    const isP1 = (hm === '' || hm.replace(/\s+/g, '').toUpperCase() === 'P1') && (num === null || num === 1);
    if (isP1) {
      ops = [{ rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: [0, 0, 0] }];
    } else {
      // only a space-group symbol/number: take the operations from the space-group tables (spacegroup.ts)
      const rel = (x: number, y: number) => Math.abs(x - y) <= 1e-4 * Math.max(Math.abs(x), Math.abs(y));
      const rhombohedralCell = rel(cell.a, cell.b) && rel(cell.b, cell.c) && rel(cell.alpha, cell.beta) && rel(cell.beta, cell.gamma) && Math.abs(cell.alpha - 90) > 1e-3;
      ops = spaceGroupOperations({ symbol: hm || null, number: num !== null && Number.isFinite(num) ? num : null, rhombohedralCell, source });
    }
  }
  const onlyIdentity = ops.length === 1 && isIdentity(ops[0]!);

  // atom sites
  const siteLoop = findLoop(block, '_atom_site_fract_x');
  if (!siteLoop) {
    if (findLoop(block, '_atom_site_cartn_x')) throw new InputError(`${source}: Cartesian atom sites (_atom_site_Cartn_x) are not supported; use fractional coordinates`);
    throw new InputError(`${source}: no atom sites (_atom_site_fract_x loop) found`);
  }
  const col = (tag: string) => siteLoop.tags.indexOf(tag);
  const cx = col('_atom_site_fract_x');
  const cy = col('_atom_site_fract_y');
  const cz = col('_atom_site_fract_z');
  if (cy < 0 || cz < 0) throw new InputError(`${source}: atom-site loop lacks _atom_site_fract_y or _atom_site_fract_z`);
  const cType = col('_atom_site_type_symbol');
  const cLabel = col('_atom_site_label');
  const cOcc = col('_atom_site_occupancy');
  if (cType < 0 && cLabel < 0) throw new InputError(`${source}: atom-site loop has neither _atom_site_type_symbol nor _atom_site_label`);

  if (siteLoop.rows.length * ops.length > MAX_CIF_IMAGES) {
    throw new InputError(`${source}: ${siteLoop.rows.length} atom sites x ${ops.length} symmetry operations is more than kldm reads (${MAX_CIF_IMAGES} images)`);
  }
  const species: string[] = [];
  const labels: string[] = [];
  const coords: number[] = [];
  const grid = new SiteGrid();
  for (let r = 0; r < siteLoop.rows.length; r++) {
    const row = siteLoop.rows[r]!;
    const label = cLabel >= 0 ? row[cLabel]! : `site ${r + 1}`;
    const where = `${source}: atom site '${label}' (row ${r + 1} of the atom-site loop)`;
    const symbolRaw = cType >= 0 && row[cType] !== '?' && row[cType] !== '.' ? row[cType]! : cLabel >= 0 ? row[cLabel]! : '';
    const el = elementOf(symbolRaw);
    if (!el) {
      const m = /^([A-Za-z]{1,2})/.exec(symbolRaw);
      if (m) elementBySymbol(m[1]!, where); // throws the standard unknown-element message
      throw new InputError(`${where}: cannot read an element from "${symbolRaw}"`);
    }
    const occ = cOcc >= 0 ? cifNumber(row[cOcc]) : 1;
    if (occ !== null && !Number.isFinite(occ)) throw new InputError(`${where}: occupancy "${row[cOcc]}" is not a number`);
    if (occ !== null && occ <= 0) continue; // pymatgen skips empty sites
    if (occ !== null && Math.abs(occ - 1) > occTol) {
      throw new InputError(`${where}: partial occupancy ${occ} (${el}); disordered structures are not supported`);
    }
    const xyz = [cifNumber(row[cx]), cifNumber(row[cy]), cifNumber(row[cz])];
    if (xyz.some((v) => v === null || !Number.isFinite(v))) {
      throw new InputError(`${where}: bad fractional coordinates (${row[cx]}, ${row[cy]}, ${row[cz]})`);
    }
    const [x, y, z] = xyz as [number, number, number];
    const start = species.length;
    for (const op of ops) {
      const R = op.rotation;
      const t = op.translation;
      const p = onlyIdentity
        ? [wrap01(x), wrap01(y), wrap01(z)]
        : [
          wrap01(R[0] * x + R[1] * y + R[2] * z + t[0]),
          wrap01(R[3] * x + R[4] * y + R[5] * z + t[1]),
          wrap01(R[6] * x + R[7] * y + R[8] * z + t[2]),
        ];
      if (!p.every(Number.isFinite)) throw new InputError(`${where}: a symmetry operation moves (${x}, ${y}, ${z}) to a non-finite position`);
      const s = grid.first(coords, p);
      if (s >= 0) {
        if (s >= start || species[s] === el) continue; // a symmetry image of a site already generated
        throw new InputError(`${where}: ${el} sits on the same position as site '${labels[s]}' (${species[s]}); mixed-occupancy (disordered) sites are not supported`);
      }
      if (species.length >= MAX_CIF_SITES) throw new InputError(`${source}: more than ${MAX_CIF_SITES} sites after applying the symmetry operations; kldm does not read cells this large`);
      grid.add(species.length, p);
      species.push(el);
      labels.push(label);
      coords.push(p[0]!, p[1]!, p[2]!);
    }
  }
  if (species.length === 0) throw new InputError(`${source}: the atom-site loop has no sites`);
  return { name: block.name, lattice, species, frac: Float64Array.from(coords) };
}

// ---------------------------------------------------------------- writer

function fmt(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return s === `-${(0).toFixed(digits)}` ? (0).toFixed(digits) : s;
}

/**
 * Writes a P1 CIF in the layout of pymatgen's CifWriter (the layout of the
 * benchmark CSVs), with 10 decimals so that a read-write-read round trip keeps
 * the lattice and coordinates to ~1e-10. Lattice vectors are not stored in a
 * CIF: a reader rebuilds them from the parameters in the standard orientation.
 */
export function writeCif(s: Structure, name?: string): string {
  const p = toParameters(s.lattice);
  const counts = new Map<string, number>();
  for (const e of s.species) counts.set(e, (counts.get(e) ?? 0) + 1);
  const formula = [...counts].map(([e, n]) => `${e}${n}`).join(' ');
  const blockName = (name ?? [...counts].map(([e, n]) => (n === 1 ? e : `${e}${n}`)).join('')).replace(/\s+/g, '_') || 'structure';
  const vol = p.a * p.b * p.c * Math.sqrt(Math.max(0,
    1 - Math.cos(p.alpha * Math.PI / 180) ** 2 - Math.cos(p.beta * Math.PI / 180) ** 2 - Math.cos(p.gamma * Math.PI / 180) ** 2 +
    2 * Math.cos(p.alpha * Math.PI / 180) * Math.cos(p.beta * Math.PI / 180) * Math.cos(p.gamma * Math.PI / 180)));
  const lines = [
    '# generated by kldm',
    `data_${blockName}`,
    "_symmetry_space_group_name_H-M   'P 1'",
    `_cell_length_a   ${fmt(p.a, 10)}`,
    `_cell_length_b   ${fmt(p.b, 10)}`,
    `_cell_length_c   ${fmt(p.c, 10)}`,
    `_cell_angle_alpha   ${fmt(p.alpha, 10)}`,
    `_cell_angle_beta   ${fmt(p.beta, 10)}`,
    `_cell_angle_gamma   ${fmt(p.gamma, 10)}`,
    '_symmetry_Int_Tables_number   1',
    `_chemical_formula_sum   '${formula}'`,
    `_cell_volume   ${fmt(vol, 8)}`,
    'loop_',
    ' _symmetry_equiv_pos_site_id',
    ' _symmetry_equiv_pos_as_xyz',
    "  1  'x, y, z'",
    'loop_',
    ' _atom_site_type_symbol',
    ' _atom_site_label',
    ' _atom_site_symmetry_multiplicity',
    ' _atom_site_fract_x',
    ' _atom_site_fract_y',
    ' _atom_site_fract_z',
    ' _atom_site_occupancy',
  ];
  for (let i = 0; i < s.species.length; i++) {
    const e = s.species[i]!;
    lines.push(`  ${e}  ${e}${i}  1  ${fmt(s.frac[3 * i]!, 10)}  ${fmt(s.frac[3 * i + 1]!, 10)}  ${fmt(s.frac[3 * i + 2]!, 10)}  1`);
  }
  return lines.join('\n') + '\n';
}
