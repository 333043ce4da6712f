import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Structure, Matrix3 } from '../crystal/types.js';
import { checkValidity, compositionValidity, structuralValidity } from './validity.js';

const cubic = (a: number): Matrix3 => [a, 0, 0, 0, a, 0, 0, 0, a];
const st = (lattice: Matrix3, species: string[], frac: number[]): Structure => ({ lattice, species, frac: Float64Array.from(frac) });

test('SMACT: exactly 3,732 of the 3,785 Perov-5 test compositions pass (DiffCSP/FlowMM @20 ceiling 98.60 %)', () => {
  const rows = JSON.parse(readFileSync(new URL('./fixtures/perov5_test_compositions.json', import.meta.url), 'utf8')) as Array<{ species: Record<string, number> }>;
  assert.equal(rows.length, 3785);
  let pass = 0;
  for (const r of rows) {
    const species = Object.entries(r.species).flatMap(([el, n]) => Array<string>(n).fill(el));
    if (compositionValidity(species).valid) pass++;
  }
  assert.equal(pass, 3732);
});

test('SMACT rule on hand-checked compositions', () => {
  assert.equal(compositionValidity(['Sr', 'Ti', 'O', 'O', 'O']).valid, true); // Sr2+ Ti4+ 3 O2-
  assert.equal(compositionValidity(['Na', 'Cl']).valid, true);
  assert.equal(compositionValidity(['Na', 'Na', 'Cl']).valid, false); // no neutral combination
  assert.equal(compositionValidity(['C', 'C', 'C']).valid, true); // single element
  assert.equal(compositionValidity(['Fe', 'Ni', 'Ni']).valid, true); // all metals: alloy
  assert.equal(compositionValidity(['He', 'O']).valid, false); // He has no oxidation states
  // gcd reduction: Sr2Ti2O6 is SrTiO3
  assert.equal(compositionValidity(['Sr', 'Sr', 'Ti', 'Ti', 'O', 'O', 'O', 'O', 'O', 'O']).valid, true);
});

test('KLDM structural validity: distance, volume, 40 Å cap, periodic images, bad numbers', () => {
  // two atoms 0.4 Å apart only through the periodic boundary
  const close = st(cubic(4), ['Na', 'Cl'], [0.01, 0, 0, 0.91, 0, 0]);
  assert.equal(structuralValidity(close, 40).valid, false);
  const ok = st(cubic(4), ['Na', 'Cl'], [0, 0, 0, 0.5, 0.5, 0.5]);
  assert.equal(checkValidity(ok, 'kldm').valid, true);
  // exactly 0.5 Å apart is valid (≥)
  assert.equal(structuralValidity(st(cubic(4), ['Na', 'Cl'], [0, 0, 0, 0.125, 0, 0]), 40).valid, true);
  // a single atom: only distinct pairs count, so its self-image distance does not matter
  assert.equal(structuralValidity(st(cubic(0.45), ['C'], [0, 0, 0]), 40).valid, false); // volume 0.09 < 0.1
  assert.equal(structuralValidity(st(cubic(0.47), ['C'], [0, 0, 0]), 40).valid, true); // volume 0.104
  // length cap only under the KLDM protocol
  const long: Structure = st([41, 0, 0, 0, 4, 0, 0, 0, 4], ['Na', 'Cl'], [0, 0, 0, 0.5, 0.5, 0.5]);
  assert.equal(checkValidity(long, 'kldm').valid, false);
  assert.equal(checkValidity(long, 'diffcsp').valid, true);
  assert.equal(checkValidity(st(cubic(4), ['Na', 'Cl'], [0, NaN, 0, 0.5, 0.5, 0.5]), 'kldm').valid, false);
  assert.equal(checkValidity(st([4, 0, 0, 8, 0, 0, 0, 0, 4], ['Na', 'Cl'], [0, 0, 0, 0.5, 0.5, 0.5]), 'kldm').valid, false); // singular cell
  // DiffCSP adds the SMACT check
  assert.equal(checkValidity(st(cubic(4), ['Na', 'Na'], [0, 0, 0, 0.5, 0.5, 0.5]), 'diffcsp').valid, true);
  assert.equal(checkValidity(st(cubic(6), ['Na', 'Na', 'Cl'], [0, 0, 0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]), 'diffcsp').valid, false);
});
