/**
 * Test-only: compares the TypeScript float64 M3GNet with the independent PyTorch autograd
 * implementation (bench/reference/m3gnet.py `fixture`, Debian python3-torch, same state.pt,
 * neighbours from pymatgen) on the committed MP-20 fixture: energies, forces and stresses of 12
 * test structures displaced by ~0.02 Å so that forces and stresses do not vanish by symmetry.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Matrix3 } from '../crystal/types.js';
import { m3gnetStructure } from './m3gnet.js';
import { M3GNET_TEST_WEIGHTS } from './testWeights.js';
import { loadM3GNet } from './weights.js';

export interface Entry {
  material_id: string; lattice: number[]; species: string[]; frac: number[];
  energy: number; forces: number[]; stress: number[]; edges: number; triples: number;
}
const here = dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(join(here, '..', '..', 'bench', 'reference', 'fixtures', 'm3gnet_mp20.json'), 'utf8')) as { structures: Entry[] };

/** Checks the fixture structures that `pick` selects; returns nothing, asserts per structure. */
export function checkAgainstTorch(pick: (s: Entry) => boolean): void {
  const model = loadM3GNet(M3GNET_TEST_WEIGHTS);
  let worstE = 0, worstF = 0, worstS = 0, count = 0;
  for (const s of fixture.structures.filter(pick)) {
    count++;
    const r = m3gnetStructure(model, { lattice: s.lattice as Matrix3, species: s.species, frac: Float64Array.from(s.frac) });
    assert.equal(r.nBonds, s.edges, `${s.material_id} bonds`);
    assert.equal(r.nTriples, s.triples, `${s.material_id} triples`);
    const eErr = Math.abs(r.energy - s.energy) / Math.abs(s.energy);
    // forces and stress: error relative to the structure's largest component
    const fScale = Math.max(...s.forces.map(Math.abs));
    const fErr = Math.max(...s.forces.map((f, k) => Math.abs(r.forces[k]! - f))) / fScale;
    const sScale = Math.max(...s.stress.map(Math.abs));
    const sErr = Math.max(...s.stress.map((x, k) => Math.abs(r.stress![k]! - x))) / sScale;
    worstE = Math.max(worstE, eErr);
    worstF = Math.max(worstF, fErr);
    worstS = Math.max(worstS, sErr);
    assert.ok(eErr < 1e-9, `${s.material_id}: E ${r.energy} vs ${s.energy}`);
    assert.ok(fErr < 1e-6, `${s.material_id}: forces off by ${fErr} (relative to max |F| ${fScale})`);
    assert.ok(sErr < 1e-6, `${s.material_id}: stress off by ${sErr} (relative to max |s| ${sScale})`);
  }
  assert.ok(count > 0);
  console.log(`${count} structures, worst relative errors vs PyTorch: energy ${worstE.toExponential(1)}, forces ${worstF.toExponential(1)}, stress ${worstS.toExponential(1)}`);
}

