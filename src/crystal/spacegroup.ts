/**
 * Symmetry operations of a space group named in a CIF that lists no explicit
 * operations (only `_symmetry_space_group_name_H-M` and/or the IT number), from
 * the tables of @spglib/moyo-wasm (pymatgen's CifParser does the same from its
 * own tables). The setting is chosen from the symbol: "P 1 21/c 1", "P 21/c",
 * "F d -3 m:1" (origin choice), "R -3 m:R" / ":H"; without a suffix moyo's
 * default setting for the number is used, except that an R group whose cell is
 * rhombohedral (a = b = c, α = β = γ ≠ 90°) gets the rhombohedral setting.
 */
import { readFileSync } from 'node:fs';
import * as moyo from '@spglib/moyo-wasm';
import { InputError } from '../util/errors.js';
import type { Matrix3 } from './types.js';

export interface SymmetryOperation {
  /** rotation, row-major: x'_i = Σ_j R_ij x_j + t_i */
  rotation: Matrix3;
  translation: [number, number, number];
}

let entries: moyo.MoyoHallSymbolEntry[] | null = null;

function hallEntries(): moyo.MoyoHallSymbolEntry[] {
  if (!entries) {
    moyo.initSync({ module: readFileSync(new URL('./moyo_wasm_bg.wasm', import.meta.resolve('@spglib/moyo-wasm'))) });
    entries = [];
    for (let h = 1; h <= 530; h++) entries.push(moyo.hall_symbol_entry(h));
  }
  return entries;
}

function normalise(symbol: string): string {
  return symbol.replace(/[\s_]/g, '');
}

export interface SpaceGroupQuery {
  /** H-M symbol as written in the CIF, possibly with ":setting" */
  symbol: string | null;
  number: number | null;
  /** a = b = c and α = β = γ ≠ 90° */
  rhombohedralCell: boolean;
  /** for error messages */
  source: string;
}

/** Operations (conventional cell, centring translations included) for the named space group. */
export function spaceGroupOperations(q: SpaceGroupQuery): SymmetryOperation[] {
  const all = hallEntries();
  let candidates = all;
  let suffix: string | null = null;
  if (q.symbol) {
    const [sym, setting] = q.symbol.split(':');
    suffix = setting ? setting.trim().toLowerCase() : null;
    const s = normalise(sym!);
    candidates = all.filter((e) => normalise(e.hm_short) === s || normalise(e.hm_full) === s || normalise(e.hall_symbol) === s);
    if (candidates.length === 0) {
      const lower = s.toLowerCase();
      candidates = all.filter((e) => normalise(e.hm_short).toLowerCase() === lower || normalise(e.hm_full).toLowerCase() === lower);
    }
  }
  if (q.number !== null) candidates = candidates.filter((e) => e.number === q.number);
  if (candidates.length === 0) {
    throw new InputError(`${q.source}: unknown space group ${q.symbol ?? ''}${q.number !== null ? ` (number ${q.number})` : ''} and no symmetry operations listed`);
  }
  if (suffix) {
    const bySetting = candidates.filter((e) => e.setting.toLowerCase() === suffix);
    if (bySetting.length === 0) throw new InputError(`${q.source}: space group ${q.symbol} has no setting "${suffix}"`);
    candidates = bySetting;
  } else if (candidates.some((e) => e.setting === 'R') && q.rhombohedralCell) {
    candidates = candidates.filter((e) => e.setting === 'R');
  } else {
    const number = candidates[0]!.number;
    const def = moyo.space_group_type(number).hall_number;
    const preferred = candidates.find((e) => e.hall_number === def);
    if (preferred) candidates = [preferred];
  }
  const hall = candidates[0]!.hall_number;
  return moyo.operations_from_number(candidates[0]!.number, { type: 'HallNumber', value: hall }, false).map((op) => ({
    rotation: [...op.rotation] as Matrix3,
    translation: [...op.translation] as [number, number, number],
  }));
}
