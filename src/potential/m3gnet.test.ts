/**
 * The float64 M3GNet reference against (1) matgl's own published test energies (its
 * tests/ext/test_ase_dgl.py: a CsCl-type MoS cell and the AcAla3NHMe peptide) and (2) central
 * finite differences of its own energy for forces and stress (float64, small cells).
 * The MP-20 batch against the independent PyTorch autograd reference is m3gnet-fixture.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Matrix3, Structure } from '../crystal/types.js';
import { InputError } from '../util/errors.js';
import { m3gnetMolecule, m3gnetStructure } from './m3gnet.js';
import { m3gnetBatch } from './fast.js';
import { referenceKernels } from '../engine/reference.js';
import { M3GNET_TEST_WEIGHTS, skipWithoutWeights } from './testWeights.js';
import { loadM3GNet, type M3GNetModel } from './weights.js';

const here = dirname(fileURLToPath(import.meta.url));
const published = JSON.parse(readFileSync(join(here, '..', '..', 'bench', 'reference', 'fixtures', 'm3gnet_peptide.json'), 'utf8')) as {
  species: string[]; cart: number[][]; energy: number;
  MoS: { lattice: number[]; species: string[]; frac: number[]; energy: number };
};
const skip = skipWithoutWeights();
let cached: M3GNetModel | null = null;
const model = () => (cached ??= loadM3GNet(M3GNET_TEST_WEIGHTS));

test('CsCl-type MoS (a = 4 Å): matgl publishes -10.824362 eV; forces vanish by symmetry, stress is isotropic', { skip }, () => {
  const r = m3gnetStructure(model(), { lattice: published.MoS.lattice as Matrix3, species: published.MoS.species, frac: Float64Array.from(published.MoS.frac) });
  // matgl's value is float32 printed to 6 decimals
  assert.ok(Math.abs(r.energy - published.MoS.energy) < 2e-6, `E = ${r.energy}`);
  for (const f of r.forces) assert.ok(Math.abs(f) < 1e-12);
  const s = r.stress!;
  assert.ok(Math.abs(s[0]! - s[4]!) < 1e-12 && Math.abs(s[0]! - s[8]!) < 1e-12 && Math.abs(s[1]!) < 1e-12);
});

/** A skewed 3-atom cell with displaced atoms: no symmetry makes any derivative vanish. */
const skewed: Structure = {
  lattice: [3.9, 0.2, 0.1, 0.6, 4.2, -0.15, -0.3, 0.4, 4.6],
  species: ['Li', 'Fe', 'O'],
  frac: Float64Array.from([0.02, 0.01, 0.03, 0.52, 0.47, 0.49, 0.26, 0.74, 0.21]),
};

test('forces are -dE/dx by central differences (float64, skewed 3-atom cell)', { skip }, () => {
  const m = model();
  const base = m3gnetStructure(m, skewed);
  const L = skewed.lattice;
  const inv = invert(L);
  const h = 1e-5;
  let worst = 0;
  for (const [atom, axis] of [[0, 0], [1, 1], [2, 2], [2, 0]] as const) {
    const energyAt = (delta: number) => {
      const frac = Float64Array.from(skewed.frac);
      // move atom along cartesian axis: d frac = d cart L^-1
      for (let k = 0; k < 3; k++) frac[3 * atom + k] += delta * inv[3 * axis + k]!;
      return m3gnetStructure(m, { ...skewed, frac }).energy;
    };
    const fd = -(energyAt(h) - energyAt(-h)) / (2 * h);
    const got = base.forces[3 * atom + axis]!;
    worst = Math.max(worst, Math.abs(got - fd));
    assert.ok(Math.abs(got - fd) < 1e-6 * Math.max(1, Math.abs(fd)), `F[${atom}][${axis}] = ${got}, differences ${fd}`);
  }
  // the sum of forces vanishes (translation invariance)
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(base.forces[k]! + base.forces[3 + k]! + base.forces[6 + k]!) < 1e-10);
  assert.ok(worst < 1e-6);
});

test('stress is (1/V) dE/dstrain by central differences (float64, skewed 3-atom cell) and symmetric', { skip }, () => {
  const m = model();
  const base = m3gnetStructure(m, skewed);
  const L = skewed.lattice;
  const volume = Math.abs(det(L));
  const h = 1e-5;
  for (const [p, q] of [[0, 0], [1, 1], [0, 1], [1, 2], [2, 0]] as const) {
    const energyAt = (delta: number) => {
      // lattice rows r -> r (I + eps), eps = delta e_p e_q^T, fractional coordinates fixed
      const Ls = [...L] as Matrix3;
      for (let row = 0; row < 3; row++) Ls[3 * row + q] += delta * L[3 * row + p]!;
      return m3gnetStructure(m, { ...skewed, lattice: Ls }).energy;
    };
    const fd = (energyAt(h) - energyAt(-h)) / (2 * h) / volume;
    const got = base.stress![3 * p + q]!;
    assert.ok(Math.abs(got - fd) < 1e-7 + 1e-6 * Math.abs(fd), `stress[${p}][${q}] = ${got}, differences ${fd}`);
  }
  const s = base.stress!;
  for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) assert.ok(Math.abs(s[3 * p! + q!]! - s[3 * q! + p!]!) < 1e-10);
});

test('invariances: a 2x1x1 supercell doubles the energy with the same forces and stress; wrapping and rotating change nothing', { skip }, () => {
  const m = model();
  const base = m3gnetStructure(m, skewed);
  const L = skewed.lattice;
  const n = skewed.species.length;
  const frac = new Float64Array(6 * n);
  for (let i = 0; i < n; i++) {
    for (const [copy, shift] of [[0, 0], [1, 1]] as const) {
      frac[3 * (i + copy * n)] = (skewed.frac[3 * i]! + shift) / 2;
      frac[3 * (i + copy * n) + 1] = skewed.frac[3 * i + 1]!;
      frac[3 * (i + copy * n) + 2] = skewed.frac[3 * i + 2]!;
    }
  }
  const supercell: Structure = { lattice: [2 * L[0], 2 * L[1], 2 * L[2], L[3], L[4], L[5], L[6], L[7], L[8]], species: [...skewed.species, ...skewed.species], frac };
  const big = m3gnetStructure(m, supercell);
  assert.ok(Math.abs(big.energy - 2 * base.energy) < 1e-9 * Math.abs(base.energy), `${big.energy} vs 2 x ${base.energy}`);
  for (let q = 0; q < 3 * n; q++) assert.ok(Math.abs(big.forces[q]! - base.forces[q]!) < 1e-9 && Math.abs(big.forces[q + 3 * n]! - base.forces[q]!) < 1e-9);
  for (let q = 0; q < 9; q++) assert.ok(Math.abs(big.stress![q]! - base.stress![q]!) < 1e-10);
  // fractional coordinates shifted by whole lattice vectors
  const wrapped = m3gnetStructure(m, { ...skewed, frac: skewed.frac.map((x, q) => x + ((q % 3) - 1) * 3) });
  assert.ok(Math.abs(wrapped.energy - base.energy) < 1e-9 * Math.abs(base.energy));
  // rigid rotation of the lattice (rows) about z by 0.7 rad: energy unchanged, forces rotate
  const c = Math.cos(0.7), s = Math.sin(0.7);
  const rot = (x: number, y: number, z: number) => [c * x - s * y, s * x + c * y, z];
  const Lr = [...rot(L[0], L[1], L[2]), ...rot(L[3], L[4], L[5]), ...rot(L[6], L[7], L[8])] as Matrix3;
  const rotated = m3gnetStructure(m, { ...skewed, lattice: Lr });
  assert.ok(Math.abs(rotated.energy - base.energy) < 1e-9 * Math.abs(base.energy));
  for (let i = 0; i < n; i++) {
    const want = rot(base.forces[3 * i]!, base.forces[3 * i + 1]!, base.forces[3 * i + 2]!);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(rotated.forces[3 * i + k]! - want[k]!) < 1e-9);
  }
});

test('an atom with no neighbour within 5 Å: energy from the readout of its embedding alone, zero forces and stress; the batch path agrees', { skip }, () => {
  const lone: Structure = { lattice: [11, 0, 0, 0, 12, 0, 0, 0, 13], species: ['Cu'], frac: Float64Array.from([0.1, 0.2, 0.3]) };
  const r = m3gnetStructure(model(), lone);
  assert.equal(r.nBonds, 0);
  assert.deepEqual([...r.forces], [0, 0, 0]);
  assert.deepEqual([...r.stress!], new Array(9).fill(0));
  const [b] = m3gnetBatch(model(), [lone, skewed], { kernels: referenceKernels, float64: true });
  assert.ok(Math.abs(b!.energy - r.energy) < 1e-12 * Math.abs(r.energy));
  assert.ok(Number.isFinite(r.energy));
});

test('an element outside the model and mismatched inputs are clear input errors', { skip }, () => {
  assert.throws(() => m3gnetStructure(model(), { ...skewed, species: ['Li', 'Fe', 'Po'] }), (e: unknown) => e instanceof InputError && /Po/.test(e.message));
  assert.throws(() => m3gnetMolecule(model(), ['H', 'H'], new Float64Array(3)), InputError);
  assert.throws(() => m3gnetStructure(model(), { ...skewed, lattice: [1, 0, 0, 2, 0, 0, 0, 0, 1] }), /singular/);
});

function det(m: Matrix3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}
function invert(m: Matrix3): number[] {
  const d = det(m);
  return [
    (m[4] * m[8] - m[5] * m[7]) / d, -(m[1] * m[8] - m[2] * m[7]) / d, (m[1] * m[5] - m[2] * m[4]) / d,
    -(m[3] * m[8] - m[5] * m[6]) / d, (m[0] * m[8] - m[2] * m[6]) / d, -(m[0] * m[5] - m[2] * m[3]) / d,
    (m[3] * m[7] - m[4] * m[6]) / d, -(m[0] * m[7] - m[1] * m[6]) / d, (m[0] * m[4] - m[1] * m[3]) / d,
  ];
}
