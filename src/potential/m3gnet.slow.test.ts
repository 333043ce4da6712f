/**
 * matgl's published energy of the AcAla3NHMe peptide (its tests/ext/test_ase_dgl.py: -250.16803 eV
 * with M3GNet-MP-2021.2.8-PES), a 42-atom molecule: 1,086 bonds, 12,234 triples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { m3gnetMolecule } from './m3gnet.js';
import { M3GNET_TEST_WEIGHTS, skipWithoutWeights } from './testWeights.js';
import { loadM3GNet } from './weights.js';

const here = dirname(fileURLToPath(import.meta.url));
const published = JSON.parse(readFileSync(join(here, '..', '..', 'bench', 'reference', 'fixtures', 'm3gnet_peptide.json'), 'utf8')) as {
  species: string[]; cart: number[][]; energy: number;
};
const skip = skipWithoutWeights();
const model = () => loadM3GNet(M3GNET_TEST_WEIGHTS);

test('AcAla3NHMe peptide (molecule): within the measured size of matgl\'s three-body indexing slip of its -250.16803 eV', { skip }, () => {
  const r = m3gnetMolecule(model(), published.species, Float64Array.from(published.cart.flat()));
  // The PyTorch reference gives -250.168007 eV with matgl's pruned-list indexing (2.3e-5 from the
  // published float32 value) and -250.168282 eV with the correct triple->bond mapping we use:
  // the slip is worth 2.75e-4 eV here (6.5e-6 eV/atom). bench/reference/m3gnet.py `published`.
  assert.ok(Math.abs(r.energy - -250.16828217231193) < 1e-9 * 250, `E = ${r.energy}`);
  assert.ok(Math.abs(r.energy - published.energy) < 3e-4);
  assert.equal(r.stress, null);
  assert.equal(r.nBonds, 1086);
  assert.equal(r.nTriples, 12234);
});

