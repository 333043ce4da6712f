/**
 * VASP POSCAR reading and writing (VASP 5 layout with a species line).
 * Written by hand: ferrox's structure_to_poscar groups sites by element, which
 * would reorder sites; this writer keeps the exact site order by writing one
 * species block per run of equal elements (VASP accepts repeated symbols).
 */
import type { Matrix3, Structure } from '../types.js';
import { InputError } from '../../util/errors.js';
import { atomicNumber, isElementSymbol } from '../elements.js';
import { cartToFrac, determinant } from '../lattice.js';

function numbers(line: string, count: number, what: string, source: string, lineNo: number): number[] {
  const parts = line.trim().split(/\s+/).slice(0, count).map(Number);
  if (parts.length < count || parts.some((v) => !Number.isFinite(v))) {
    throw new InputError(`${source}: line ${lineNo}: expected ${count} numbers for ${what}, got "${line.trim()}"`);
  }
  return parts;
}

export function readPoscar(text: string, source = 'POSCAR'): Structure & { name: string } {
  const lines = text.split(/\r\n|\r|\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length < 8) throw new InputError(`${source}: a POSCAR needs at least 8 lines, found ${lines.length}`);
  const name = lines[0]!.trim();
  const scaleParts = numbers(lines[1]!, 1, 'the scale factor', source, 2);
  const rows = [2, 3, 4].flatMap((k) => numbers(lines[k]!, 3, 'a lattice vector', source, k + 1));
  let lattice = rows as Matrix3;
  let scale = scaleParts[0]!;
  if (scale < 0) scale = Math.cbrt(-scale / Math.abs(determinant(lattice))); // negative scale = target volume
  if (!(scale > 0)) throw new InputError(`${source}: line 2: scale factor must be non-zero`);
  lattice = lattice.map((v) => v * scale) as Matrix3;
  let ln = 5;
  let symbols: string[];
  const first = lines[ln]!.trim().split(/\s+/);
  if (first.every((t) => /^\d+$/.test(t))) {
    // VASP 4: no species line; take the symbols from the comment line
    symbols = name.split(/\s+/).filter((t) => isElementSymbol(t));
    if (symbols.length !== first.length) throw new InputError(`${source}: line 6: no species line (VASP 4 format) and the comment line does not name ${first.length} elements`);
  } else {
    symbols = first.map((t) => t.replace(/[_/].*$/, '')); // "Fe_pv" or "Fe/hash" POTCAR labels
    for (const s of symbols) atomicNumber(s, `${source}: line 6`);
    ln++;
  }
  const counts = lines[ln]!.trim().split(/\s+/).map(Number);
  if (counts.length !== symbols.length || counts.some((c) => !Number.isInteger(c) || c < 0)) {
    throw new InputError(`${source}: line ${ln + 1}: expected ${symbols.length} non-negative integer counts, got "${lines[ln]!.trim()}"`);
  }
  ln++;
  if (/^\s*s/i.test(lines[ln] ?? '')) ln++; // Selective dynamics
  const mode = (lines[ln] ?? '').trim();
  const cartesian = /^[ck]/i.test(mode);
  if (!cartesian && !/^d/i.test(mode)) throw new InputError(`${source}: line ${ln + 1}: expected "Direct" or "Cartesian", got "${mode}"`);
  ln++;
  // check the counts against the file before expanding them (found by fuzzing: a count of 4294967296 made
  // the species list grow until V8 aborted the process)
  const total = counts.reduce((a, b) => a + b, 0);
  const available = lines.length - ln;
  if (total > available) throw new InputError(`${source}: the element counts give ${total} sites, but only ${Math.max(0, available)} coordinate lines follow`);
  const species: string[] = [];
  symbols.forEach((s, k) => {
    for (let c = 0; c < counts[k]!; c++) species.push(s);
  });
  const coords: number[] = [];
  for (let i = 0; i < species.length; i++) {
    const line = lines[ln + i];
    if (line === undefined) throw new InputError(`${source}: expected ${species.length} coordinate lines, file ends after ${i}`);
    coords.push(...numbers(line, 3, `site ${i + 1}`, source, ln + i + 1));
  }
  let frac: Float64Array = Float64Array.from(coords);
  if (cartesian) frac = cartToFrac(lattice, coords.map((v) => v * scale));
  return { name, lattice, species, frac };
}

export function writePoscar(s: Structure, comment?: string): string {
  const runs: [string, number][] = [];
  for (const e of s.species) {
    const last = runs[runs.length - 1];
    if (last && last[0] === e) last[1]++;
    else runs.push([e, 1]);
  }
  // every number is preceded by a space (a huge value fills its 21 columns and must not run into the previous one; found by fuzzing)
  const f = (x: number) => ` ${x.toFixed(16).padStart(21)}`;
  const L = s.lattice;
  const lines = [
    (comment ?? runs.map(([e, n]) => `${e}${n}`).join('')).replace(/[\r\n]/g, ' '),
    '1.0',
    `${f(L[0])}${f(L[1])}${f(L[2])}`,
    `${f(L[3])}${f(L[4])}${f(L[5])}`,
    `${f(L[6])}${f(L[7])}${f(L[8])}`,
    runs.map(([e]) => e.padStart(4)).join(''),
    runs.map(([, n]) => String(n).padStart(4)).join(''),
    'Direct',
  ];
  for (let i = 0; i < s.species.length; i++) {
    lines.push(`${f(s.frac[3 * i]!)}${f(s.frac[3 * i + 1]!)}${f(s.frac[3 * i + 2]!)} ${s.species[i]}`);
  }
  return lines.join('\n') + '\n';
}
