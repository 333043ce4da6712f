/** One regression test per bug the fuzzers found (docs/reliability.md lists them). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { InputError } from '../util/errors.js';
import { parseFormula, MAX_NESTING } from '../crystal/composition.js';
import { parseStructure, readCif, writePoscar, writeExtxyz, MAX_CIF_IMAGES } from '../crystal/io/index.js';
import { makeStructure } from '../crystal/structure.js';
import { csvTargetsFromBytes } from '../predict/csvTargets.js';
import { createKldmServer } from '../server/app.js';
import { testServices } from '../server/testing/test-services.js';
import { request } from 'node:http';
import { cpuMs } from '../util/cpuTime.js';

const isInput = (re: RegExp) => (e: unknown) => e instanceof InputError && re.test(e.message);

test('formula: deeply nested brackets are an InputError, not a stack overflow (RangeError)', () => {
  assert.throws(() => parseFormula('('.repeat(5000) + 'H' + ')'.repeat(5000)), isInput(/nested more than 32 deep/));
  const ok = '('.repeat(MAX_NESTING) + 'H' + ')'.repeat(MAX_NESTING);
  assert.deepEqual(parseFormula(ok).counts, [1]);
});

function bigCif(sites: number, ops: number): string {
  const lines = ['data_big', '_cell_length_a 40', '_cell_length_b 40', '_cell_length_c 40', '_cell_angle_alpha 90', '_cell_angle_beta 90', '_cell_angle_gamma 90', 'loop_', '_symmetry_equiv_pos_as_xyz'];
  for (let k = 0; k < ops; k++) lines.push(`'x+${k}/${ops}, y, z'`);
  lines.push('loop_', '_atom_site_type_symbol', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z');
  for (let i = 0; i < sites; i++) lines.push(`O ${((i * 0.618034) % 1).toFixed(5)} ${((i * 0.414214) % 1).toFixed(5)} ${((i * 0.732051) % 1).toFixed(5)}`);
  return lines.join('\n') + '\n';
}

test('CIF: symmetry expansion of a big CIF takes well under a second (was an all-pairs search: minutes), same sites as before', () => {
  const t0 = cpuMs();
  const s = readCif(bigCif(2000, 4));
  const ms = cpuMs() - t0; // CPU time: a loaded machine stretches the wall clock, not the work
  assert.equal(s.species.length, 8000);
  assert.ok(ms < 1500, `${ms} ms of CPU time`);
  // duplicates are still merged: the same site twice, and an operation that maps a site onto itself
  const dup = readCif('data_d\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_symmetry_equiv_pos_as_xyz\n\'x, y, z\'\n\'-x, -y, -z\'\nloop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nO 0 0 0\nO 0.99999 0 0\nNa 0.5 0.5 0.5\nCl 0.25 0.1 0.1\n');
  assert.deepEqual(dup.species, ['O', 'Na', 'Cl', 'Cl']);
  assert.throws(() => readCif(bigCif(600, 1000)), isInput(new RegExp(`more than kldm reads \\(${MAX_CIF_IMAGES} images\\)`)));
  assert.throws(() => readCif(bigCif(12_000, 1)), isInput(/more than 10000 sites/));
});

test('CIF: a symmetry operation that sends a site to a non-finite position is an InputError', () => {
  const cif = 'data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_symmetry_equiv_pos_as_xyz\n\'2x, y, z\'\nloop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nO 1e308 0 0\nNa 0.5 0.5 0.5\n';
  assert.throws(() => readCif(cif), isInput(/non-finite position/));
});

test('POSCAR: element counts beyond the file are an InputError (a count of 2^32 made V8 abort the process)', () => {
  const text = 'x\n1.0\n4 0 0\n0 4 0\n0 0 4\nO\n4294967296\nDirect\n0 0 0\n';
  assert.throws(() => parseStructure(text, 'poscar', 'POSCAR'), isInput(/counts give 4294967296 sites, but only 1 coordinate lines follow/));
});

test('POSCAR writer: huge numbers stay separated, and a title with \\r stays on one line', () => {
  const s = makeStructure([1e-3, 0, 0, 0, 1, 0, 0, 0, -999999.9999999985], ['H'], [0, 0, 0]);
  const back = parseStructure(writePoscar(s, 'a\rb'), 'poscar', 'POSCAR');
  assert.deepEqual(back.lattice.map((v) => Math.round(v * 1e6) / 1e6), [0.001, 0, 0, 0, 1, 0, 0, 0, -1e6]);
  assert.equal(writePoscar(s, 'a\rb').split(/\r\n|\r|\n/)[0], 'a b');
});

test('extXYZ writer: a comment with \\r does not break the comment line', () => {
  const s = makeStructure([4, 0, 0, 0, 4, 0, 0, 0, 4], ['H'], [0, 0, 0]);
  assert.ok(!writeExtxyz(s, 'a\rb"c').includes('\r'));
});

test('structure JSON: wrong types are InputErrors naming the field, not TypeErrors', () => {
  const bad: [string, RegExp][] = [
    ['{"species":[]}', /lattice must be an array of 9 numbers/],
    ['{"species":["H"],"lattice":[1,0,0,0,1,0,0,0,1],"frac":"x"}', /frac must be an array/],
    ['{"species":[1],"lattice":[1,0,0,0,1,0,0,0,1],"frac":[0,0,0]}', /species must be an array of element symbols/],
    ['{"lattice":{"matrix":[[1,0,0],[0,1,0],[0,0,1]]},"sites":[null]}', /site 1: expected an object/],
    ['{"lattice":{"matrix":[[1,0,0],[0,1,0],[0,0,1]]},"sites":[{"species":[{"element":5}],"abc":[0,0,0]}]}', /needs an "element" symbol/],
    ['{"lattice":{"matrix":[[1,0,0],[0,1,0],[0,0,1]]},"sites":[{"species":[null],"abc":[0,0,0]}]}', /needs an "element" symbol/],
    ['{"lattice":{"matrix":[[1,0,0],[0,1,0],"x"]},"sites":[]}', /3x3 array of numbers/],
    ['{"lattice":{"matrix":[[1,0,0],[0,1,0],[0,0,1]]},"sites":[{"species":[{"element":"H","occu":"1"}],"abc":[0,0,0]}]}', /partial occupancy "1"/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseStructure(text, 'json', 's.json'), isInput(re), text);
});

test('--dataset-csv: a corrupt .gz is an InputError naming the file (was a raw zlib error)', () => {
  const gz = gzipSync('material_id,cif\n');
  gz[gz.length - 5] ^= 0xff; // breaks the length/CRC trailer
  // gzip is told apart by its magic bytes (readCifCsv): text named .gz is read as text, and fails as a CSV naming the file
  assert.throws(() => csvTargetsFromBytes(Buffer.from('not gzip'), 'c.csv.gz'), isInput(/c\.csv\.gz/));
  assert.throws(() => csvTargetsFromBytes(gz, 'c.csv.gz'), isInput(/not a valid gzip file/));
});

{
  test('HTTP: a request path starting with "//" is a 4xx (was a 500: new URL read it as a host name)', async () => {
    const app = createKldmServer({ port: 0, services: testServices(), webRoot: null, log: () => {} });
    const port = Number(new URL(await app.listen()).port);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '//SiR%40.*7/jobs', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.ok(status >= 400 && status < 500, `HTTP ${status}`);
    } finally {
      await app.close();
    }
  });
}
