import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCifForMatching } from './cifReader.js';
import { InputError } from '../util/errors.js';

const cif = (rows: string[], a = 4): string => `data_test
_symmetry_space_group_name_H-M   'P 1'
_cell_length_a   ${a}
_cell_length_b   ${a}
_cell_length_c   ${a}
_cell_angle_alpha   90
_cell_angle_beta   90
_cell_angle_gamma   90
_symmetry_Int_Tables_number   1
loop_
 _symmetry_equiv_pos_site_id
 _symmetry_equiv_pos_as_xyz
  1  'x, y, z'
loop_
 _atom_site_type_symbol
 _atom_site_label
 _atom_site_symmetry_multiplicity
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
${rows.join('\n')}
`;

test('CIF reading as pymatgen: electronegativity order (stable), 1/3-2/3 snapping, wrapping', () => {
  const s = readCifForMatching(
    cif([
      '  O  O0  1  0.5 0.5 0.0  1',
      '  Ti  Ti1  1  0.5 0.5 0.5  1',
      '  O  O1  1  0.5 0.0 0.5  1',
      '  Ba  Ba2  1  0.33333 -0.25 0.66667  1',
      '  O  O2  1  0.0 0.5 0.5  1',
    ]),
  );
  // Ba (0.89) < Ti (1.54) < O (3.44); the O sites keep their file order
  assert.deepEqual(s.species, ['Ba', 'Ti', 'O', 'O', 'O']);
  assert.deepEqual(Array.from(s.frac.slice(0, 3)), [1 / 3, 0.75, 2 / 3]);
  assert.deepEqual(Array.from(s.frac.slice(6, 15)), [0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5]);
  assert.ok(Math.abs(s.lattice[0] - 4) < 1e-12 && Math.abs(s.lattice[4] - 4) < 1e-12);
});

test('CIF reading rejects unreadable text with an InputError naming the source', () => {
  assert.throws(() => readCifForMatching('not a cif', 'pred.cif'), (e: unknown) => e instanceof InputError && /pred\.cif/.test(e.message));
});

test('CIF reading rejects partially occupied and unknown-element sites (pymatgen keeps them disordered: never a match)', () => {
  assert.throws(() => readCifForMatching(cif(['  Na  Na0  1  0 0 0  0.5']), 'pred.cif'), (e: unknown) => e instanceof InputError && /pred\.cif.*occupancy/.test(e.message));
  assert.throws(() => readCifForMatching(cif(['  Xx  Xx0  1  0 0 0  1']), 'pred.cif'), (e: unknown) => e instanceof InputError && /pred\.cif/.test(e.message));
  // an occupancy within 1e-6 of 1 is a full site
  assert.deepEqual(readCifForMatching(cif(['  Na  Na0  1  0 0 0  0.9999999'])).species, ['Na']);
});
