import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCifBlocks, parseSymmetryOperation, readCif, writeCif } from './cif.js';
import { InputError } from '../../util/errors.js';
import { ferrox } from '../ferrox.js';
import { readSplitSource } from '../../data/source.js';

const PEROV = `# generated using pymatgen
data_TiOsNOF
_symmetry_space_group_name_H-M   'P 1'
_cell_length_a   4.05632160
_cell_length_b   4.05632160
_cell_length_c   4.05632160
_cell_angle_alpha   90.00000000
_cell_angle_beta   90.00000000
_cell_angle_gamma   90.00000000
_symmetry_Int_Tables_number   1
_chemical_formula_sum   'Ti1 Os1 N1 O1 F1'
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
  Ti  Ti0  1  -0.39078906  0.00000000  0.00000000  1
  Os  Os1  1  0.77619935  0.50000000  0.50000000  1
  F  F2  1  0.41528400  0.00000000  0.50000000  1
  N  N3  1  0.74200080  0.50000000  0.00000000  1
  O  O4  1  0.23143281  0.50000000  0.50000000  1
`;

const NACL = `data_NaCl
_cell_length_a 5.640(2)
_cell_length_b 5.64
_cell_length_c 5.64
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
_space_group_symop_operation_xyz
x,y,z
x,y+1/2,z+1/2
x+1/2,y,z+1/2
x+1/2,y+1/2,z
-x,-y,-z
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Na1 Na+ 0 0 0 1.0
Cl1 Cl- 0.5 0.5 0.5 1
`;

test('P1 CIF: site order kept exactly, coordinates wrapped to [0,1), lattice from parameters', () => {
  const s = readCif(PEROV);
  assert.equal(s.name, 'TiOsNOF');
  assert.deepEqual(s.species, ['Ti', 'Os', 'F', 'N', 'O']);
  assert.ok(Math.abs(s.frac[0]! - 0.60921094) < 1e-15);
  assert.ok(Math.abs(s.lattice[0] - 4.0563216) < 1e-12 && Math.abs(s.lattice[4] - 4.0563216) < 1e-12);
});

test('symmetry operations expand each site in file order; duplicate images dropped; oxidation states stripped', () => {
  const s = readCif(NACL);
  assert.deepEqual(s.species, ['Na', 'Na', 'Na', 'Na', 'Cl', 'Cl', 'Cl', 'Cl']);
  assert.deepEqual([...s.frac.slice(0, 12)], [0, 0, 0, 0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0]);
  assert.deepEqual([...s.frac.slice(12, 15)], [0.5, 0.5, 0.5]);
  assert.deepEqual([...s.frac.slice(15, 18)], [0.5, 0, 0]); // (0.5, 1, 1) wrapped
  assert.ok(Math.abs(s.lattice[0] - 5.64) < 1e-12); // "5.640(2)": uncertainty stripped
  // ferrox expands the same way (independent reader)
  const r = ferrox().parse_cif(NACL);
  assert.ok('ok' in r);
  assert.equal(r.ok.sites.length, 8);
});

test('a CIF with only a space-group symbol is expanded from the space-group tables (moyo)', () => {
  const noOps = NACL.replace(/loop_\n_space_group_symop[\s\S]*?-x,-y,-z\n/, '');
  const s = readCif(noOps);
  assert.deepEqual(s.species, ['Na', 'Na', 'Na', 'Na', 'Cl', 'Cl', 'Cl', 'Cl']);
  const key = (f: Float64Array, i: number) => [0, 1, 2].map((k) => f[3 * i + k]!.toFixed(6)).join(',');
  const explicit = readCif(NACL);
  const set = (x: typeof s) => new Set(x.species.map((e, i) => `${e}@${key(x.frac, i)}`));
  assert.deepEqual(set(s), set(explicit));
  // number only
  assert.equal(readCif(noOps.replace("_symmetry_space_group_name_H-M 'F m -3 m'", '_symmetry_Int_Tables_number 225')).species.length, 8);
  // R groups: rhombohedral cell -> rhombohedral setting (1 site); ":H" forces the hexagonal setting (3 sites)
  const rhombo = `data_r\n_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n_cell_angle_alpha 50\n_cell_angle_beta 50\n_cell_angle_gamma 50\n_symmetry_space_group_name_H-M 'R -3 m'\nloop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nBi 0 0 0\n`;
  assert.equal(readCif(rhombo).species.length, 1);
  assert.equal(readCif(rhombo.replace("'R -3 m'", "'R -3 m:H'")).species.length, 3);
});

test('symmetry-operation parser', () => {
  assert.deepEqual(parseSymmetryOperation('-x+y, 1/2-x, z+0.25'), { rotation: [-1, 1, 0, -1, 0, 0, 0, 0, 1], translation: [0, 0.5, 0.25] });
  assert.deepEqual(parseSymmetryOperation("X,Y,Z"), { rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: [0, 0, 0] });
  assert.throws(() => parseSymmetryOperation('x,y'), /three comma-separated/);
  assert.throws(() => parseSymmetryOperation('x,y,q'), /cannot parse/);
});

test('tokenizer: comments, quoted strings with inner quotes, semicolon text fields, several blocks', () => {
  const blocks = parseCifBlocks(`data_a # comment
_title ;not
_note
;line one
line two
;
_q2 'O'Brien'
data_b
_x 1
`);
  assert.equal(blocks.length, 2);
  assert.equal(blocks[0]!.items.get('_title'), ';not');
  assert.equal(blocks[0]!.items.get('_note'), 'line one\nline two');
  assert.equal(blocks[0]!.items.get('_q2'), "O'Brien");
  assert.equal(blocks[1]!.items.get('_x'), '1');
});

test('disorder and bad input are rejected with messages naming the site / field', () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => readCif(text, { source: 'x.cif' }), (e: unknown) => e instanceof InputError && re.test(e.message), re.source);
  bad(NACL.replace('Na1 Na+ 0 0 0 1.0', 'Na1 Na+ 0 0 0 0.5'), /x\.cif: atom site 'Na1' \(row 1 of the atom-site loop\): partial occupancy 0.5 \(Na\); disordered/);
  bad(NACL.replace('Cl1 Cl- 0.5 0.5 0.5 1', 'K1 K 0 0 0 1\nCl1 Cl- 0.5 0.5 0.5 1'), /atom site 'K1'.*same position as site 'Na1'.*disordered/);
  bad(PEROV.replace('  Os  Os1', '  Qq  Qq1'), /unknown element symbol "Qq"/);
  bad(PEROV.replace('_cell_length_b   4.05632160\n', ''), /missing _cell_length_b/);
  bad(PEROV.replace('90.00000000', 'abc'), /_cell_angle_alpha = "abc" is not a number/);
  bad(NACL.replace(/loop_\n_space_group_symop[\s\S]*?-x,-y,-z\n/, '').replace("'F m -3 m'", "'X q 7'"), /unknown space group X q 7 and no symmetry operations listed/);
  bad(PEROV.replace("'P 1'", "'P 1"), /unterminated 'quoted' string/);
  bad(PEROV.replace(/_atom_site_fract/g, '_atom_site_Cartn'), /Cartesian atom sites/);
  bad('hello', /unexpected value "hello"|no data_ block/);
  bad('', /no data_ block/);
  bad(PEROV.replace('0.41528400  0.00000000  0.50000000', '0.41528400  ?  0.50000000'), /atom site 'F2'.*bad fractional coordinates/);
});

test('writeCif -> readCif keeps order and values; ferrox reads our CIF identically', () => {
  const s = readCif(PEROV);
  const text = writeCif(s);
  const t = readCif(text);
  assert.deepEqual(t.species, s.species);
  for (let i = 0; i < 15; i++) assert.ok(Math.abs(t.frac[i]! - s.frac[i]!) < 1e-10);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(t.lattice[i]! - s.lattice[i]!) < 1e-9);
  const r = ferrox().parse_cif(text);
  assert.ok('ok' in r);
  assert.deepEqual(r.ok.sites.map((x: { species: { element: string }[] }) => x.species[0]!.element), s.species);
});

test('our reader agrees with ferrox parse_cif on dataset CIFs (lattice 1e-9, coordinates 1e-9)', () => {
  const f = ferrox();
  for (const [ds, split] of [['perov_5', 'test'], ['mp_20', 'test'], ['mpts_52', 'val'], ['carbon_24', 'val']] as const) {
    const src = readSplitSource(ds, split);
    for (let i = 0; i < 150; i++) {
      const s = readCif(src.cifs[i]!);
      const r = f.parse_cif(src.cifs[i]!);
      assert.ok('ok' in r);
      const m = (r.ok.lattice.matrix as number[][]).flat();
      for (let k = 0; k < 9; k++) assert.ok(Math.abs(m[k]! - s.lattice[k]!) < 1e-9, `${ds} row ${i} lattice`);
      assert.equal(r.ok.sites.length, s.species.length);
      for (let j = 0; j < s.species.length; j++) {
        const site = r.ok.sites[j] as { species: { element: string }[]; abc: number[] };
        assert.equal(site.species[0]!.element, s.species[j]);
        for (let k = 0; k < 3; k++) {
          let d = site.abc[k]! - s.frac[3 * j + k]!;
          d -= Math.round(d);
          assert.ok(Math.abs(d) < 1e-9, `${ds} row ${i} site ${j}`);
        }
      }
    }
  }
});
