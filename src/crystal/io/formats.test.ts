import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatFromPath, formatStructure, readStructureFile, readPoscar, writePoscar, writeExtxyz, readJson, writeJson } from './index.js';
import { makeStructure } from '../structure.js';
import { fromParameters } from '../lattice.js';
import { ferrox } from '../ferrox.js';
import { InputError } from '../../util/errors.js';

const L = fromParameters({ a: 3.9, b: 4.1, c: 5.2, alpha: 85, beta: 95, gamma: 100 });
// interleaved species: POSCAR must not regroup them
const S = makeStructure(L, ['Ti', 'O', 'Ti', 'O', 'Sr'], [0.1, 0.2, 0.3, 0.5, 0.5, 0, 0.9, 0.8, 0.7, 0.25, 0.75, 0.5, 0, 0, 0]);

function sameStructure(a: { lattice: number[]; species: string[]; frac: ArrayLike<number> }, b: typeof a, tol = 1e-10): void {
  assert.deepEqual(b.species, a.species);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(a.lattice[i]! - b.lattice[i]!) <= tol, `lattice ${i}`);
  for (let i = 0; i < a.frac.length; i++) assert.ok(Math.abs(a.frac[i]! - b.frac[i]!) <= tol, `frac ${i}`);
}

test('POSCAR round trip keeps the exact site order (repeated species blocks)', () => {
  const text = writePoscar(S);
  assert.match(text.split('\n')[5]!, /Ti\s+O\s+Ti\s+O\s+Sr/);
  sameStructure(S, readPoscar(text));
});

test('POSCAR: Cartesian coordinates, scale factor, negative (volume) scale, VASP 4 layout', () => {
  const cart = `NaCl
2.0
 2.0 0.0 0.0
 0.0 2.0 0.0
 0.0 0.0 2.0
Na Cl
1 1
Cartesian
0.0 0.0 0.0
1.0 1.0 1.0
`;
  const s = readPoscar(cart);
  assert.deepEqual([...s.lattice], [4, 0, 0, 0, 4, 0, 0, 0, 4]);
  assert.deepEqual([...s.frac], [0, 0, 0, 0.5, 0.5, 0.5]);
  const vol = readPoscar(cart.replace('2.0\n', '-125.0\n').replace('Cartesian', 'Direct').replace('1.0 1.0 1.0', '0.5 0.5 0.5'));
  assert.ok(Math.abs(vol.lattice[0] - 5) < 1e-12);
  const v4 = readPoscar('Na Cl\n1.0\n4 0 0\n0 4 0\n0 0 4\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n');
  assert.deepEqual(v4.species, ['Na', 'Cl']);
  const sel = readPoscar('x\n1.0\n4 0 0\n0 4 0\n0 0 4\nFe_pv\n1\nSelective dynamics\nDirect\n0 0 0 T T F\n');
  assert.deepEqual(sel.species, ['Fe']);
  assert.throws(() => readPoscar('x\n1\n'), (e: unknown) => e instanceof InputError && /at least 8 lines/.test(e.message));
  assert.throws(() => readPoscar(cart.replace('Na Cl', 'Na Qq')), /unknown element symbol "Qq"/);
  assert.throws(() => readPoscar(cart.replace('1.0 1.0 1.0', '1.0 x 1.0')), /line 10: expected 3 numbers for site 2/);
});

test('ferrox reads our POSCAR (grouped species) with the same lattice and coordinates', () => {
  const g = makeStructure(L, ['Sr', 'Ti', 'O', 'O'], [0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0.5, 0, 0.5]);
  const r = ferrox().parse_poscar(writePoscar(g));
  assert.ok('ok' in r);
  const m = (r.ok.lattice.matrix as number[][]).flat();
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(m[i]! - g.lattice[i]!) < 1e-12);
  assert.deepEqual(r.ok.sites.map((x: { abc: number[] }) => x.abc).flat(), [...g.frac]);
});

test('extended XYZ: count line, Lattice comment, Cartesian positions', () => {
  const s = makeStructure([4, 0, 0, 0, 4, 0, 0, 0, 5], ['Na', 'Cl'], [0, 0, 0, 0.5, 0.5, 0.5]);
  const lines = writeExtxyz(s, 'test').trim().split('\n');
  assert.equal(lines[0], '2');
  assert.match(lines[1]!, /^Lattice="4\.0+ 0\.0+ 0\.0+ 0\.0+ 4\.0+ 0\.0+ 0\.0+ 0\.0+ 5\.0+" Properties=species:S:1:pos:R:3 pbc="T T T" comment="test"$/);
  assert.deepEqual(lines[2]!.trim().split(/\s+/).map((v, i) => (i === 0 ? v : Number(v))), ['Na', 0, 0, 0]);
  assert.deepEqual(lines[3]!.trim().split(/\s+/).map((v, i) => (i === 0 ? v : Number(v))), ['Cl', 2, 2, 2.5]);
});

test('JSON (pymatgen as_dict layout) round trip; plain kldm JSON; errors', () => {
  const j = JSON.parse(writeJson(S));
  assert.equal(j['@class'], 'Structure');
  assert.equal(j.sites.length, 5);
  sameStructure(S, readJson(writeJson(S)), 0);
  sameStructure(S, readJson(JSON.stringify({ lattice: [...S.lattice], species: S.species, frac: [...S.frac] })), 0);
  assert.throws(() => readJson('{'), /invalid JSON/);
  assert.throws(() => readJson('{"a":1}'), /not a structure/);
  const dis = JSON.parse(writeJson(S));
  dis.sites[1].species.push({ element: 'F', occu: 0.5 });
  assert.throws(() => readJson(JSON.stringify(dis), 'd.json'), /d\.json: site 2: expected exactly one species/);
});

test('file reading by extension, and formats by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-io-'));
  for (const [name, fmt] of [['s.cif', 'cif'], ['POSCAR', 'poscar'], ['s.vasp', 'poscar'], ['s.json', 'json']] as const) {
    assert.equal(formatFromPath(name), fmt);
    writeFileSync(join(dir, name), formatStructure(S, fmt));
    const back = readStructureFile(join(dir, name));
    sameStructure({ ...S, lattice: [...S.lattice] }, { ...back, lattice: [...back.lattice] }, 1e-8);
  }
  assert.equal(formatFromPath('x.extxyz'), 'extxyz');
  assert.throws(() => formatFromPath('x.txt'), /cannot tell the structure format/);
  assert.throws(() => readStructureFile(join(dir, 'missing.cif')), /cannot read .*missing\.cif: ENOENT/);
});
