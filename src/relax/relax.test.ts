/**
 * Relaxation (FIRE + exponential cell filter) against ASE 3.22.1 (FIRE + ExpCellFilter, its
 * LennardJones calculator) step by step, plus finite-difference checks of the Lennard-Jones test
 * potential and of the cell filter's exact generalised forces. Fixture: bench/reference/relax_ase.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Matrix3, Structure } from '../crystal/types.js';
import { volume } from '../crystal/lattice.js';
import { Rng } from '../util/rng.js';
import { lennardJones, lennardJonesBatch } from './testing/lennardJones.js';
import { ExpCellFilter } from './cellFilter.js';
import { relaxStructures } from './relax.js';

interface AseCase {
  name: string;
  start: { lattice: number[]; frac: number[]; species: string[] };
  single: { energy: number; forces: number[]; stress: number[] };
  fmax: number;
  maxSteps: number;
  converged: boolean;
  steps: number;
  energies: number[];
  fmaxes: number[];
  final: { lattice: number[]; frac: number[]; energy: number };
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/ase_lj_relax.json', import.meta.url), 'utf8')) as { epsilon: number; sigma: number; rc: number; cases: AseCase[] };
const lj = { epsilon: fixture.epsilon, sigma: fixture.sigma, rc: fixture.rc };
const structureOf = (c: AseCase): Structure => ({ lattice: c.start.lattice as Matrix3, species: c.start.species, frac: Float64Array.from(c.start.frac) });

test('Lennard-Jones test potential equals ASE\'s calculator (energy, forces, stress)', () => {
  for (const c of fixture.cases) {
    const ev = lennardJones(structureOf(c), lj);
    assert.ok(Math.abs(ev.energy - c.single.energy) < 1e-12 * Math.max(1, Math.abs(c.single.energy)), `${c.name} energy ${ev.energy} vs ${c.single.energy}`);
    c.single.forces.forEach((f, i) => assert.ok(Math.abs(ev.forces[i]! - f) < 1e-12, `${c.name} force ${i}`));
    c.single.stress.forEach((s, i) => assert.ok(Math.abs(ev.stress![i]! - s) < 1e-14, `${c.name} stress ${i}: ${ev.stress![i]} vs ${s}`));
  }
});

test('Lennard-Jones forces and stress are the derivatives of its energy (central differences)', () => {
  const s = structureOf(fixture.cases[1]!);
  const ev = lennardJones(s, lj);
  const h = 1e-5;
  const inv = (m: number[]): number[] => {
    const det = volume(m as Matrix3) * Math.sign(m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!));
    return [
      (m[4]! * m[8]! - m[5]! * m[7]!) / det, (m[2]! * m[7]! - m[1]! * m[8]!) / det, (m[1]! * m[5]! - m[2]! * m[4]!) / det,
      (m[5]! * m[6]! - m[3]! * m[8]!) / det, (m[0]! * m[8]! - m[2]! * m[6]!) / det, (m[2]! * m[3]! - m[0]! * m[5]!) / det,
      (m[3]! * m[7]! - m[4]! * m[6]!) / det, (m[1]! * m[6]! - m[0]! * m[7]!) / det, (m[0]! * m[4]! - m[1]! * m[3]!) / det,
    ];
  };
  // force on atom 0 along x: move it in Cartesian space
  const Li = inv(s.lattice);
  for (const k of [0, 1, 2]) {
    const shifted = (sign: number): Structure => {
      const frac = Float64Array.from(s.frac);
      for (let a = 0; a < 3; a++) frac[a]! += sign * h * Li[3 * k + a]!; // Δfrac = Δx · L⁻¹
      return { ...s, frac };
    };
    const fd = -(lennardJones(shifted(1), lj).energy - lennardJones(shifted(-1), lj).energy) / (2 * h);
    assert.ok(Math.abs(fd - ev.forces[k]!) < 1e-7, `force ${k}: ${fd} vs ${ev.forces[k]}`);
  }
  // stress: σ_ab = (1/V) ∂E/∂ε_ab with a symmetric strain applied to the cell, fractional coordinates fixed
  for (const [a, b] of [[0, 0], [1, 2], [0, 2]] as const) {
    const strained = (e: number): Structure => {
      const eps = [0, 0, 0, 0, 0, 0, 0, 0, 0];
      eps[3 * a + b]! += e / (a === b ? 1 : 2);
      eps[3 * b + a]! += a === b ? 0 : e / 2;
      const lat = s.lattice.map((_, k) => {
        const i = Math.floor(k / 3), j = k % 3;
        let v = s.lattice[k]!;
        for (let m = 0; m < 3; m++) v += s.lattice[3 * i + m]! * eps[3 * j + m]!;
        return v;
      }) as Matrix3;
      return { ...s, lattice: lat };
    };
    const fd = (lennardJones(strained(h), lj).energy - lennardJones(strained(-h), lj).energy) / (2 * h) / volume(s.lattice);
    const want = a === b ? ev.stress![3 * a + b]! : ev.stress![3 * a + b]!; // the off-diagonal strain above is ε_ab = ε_ba = e/2 → dE/de = σ_ab V
    assert.ok(Math.abs(fd - want) < 1e-9, `stress ${a}${b}: ${fd} vs ${want}`);
  }
});

test('the exact cell force of the filter is minus the gradient of the energy in its coordinates', () => {
  const rng = new Rng(4);
  const s = structureOf(fixture.cases[1]!);
  const filter = new ExpCellFilter(s, { cellForce: 'exact', cellFactor: 3 });
  for (let k = 0; k < 9; k++) filter.coords[3 * s.species.length + k] = (k % 4 === 0 ? 0.03 : 0.01) * rng.normal() * 3; // a strained state
  // keep U symmetric
  const n = s.species.length;
  for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) filter.coords[3 * n + 3 * j + i] = filter.coords[3 * n + 3 * i + j]!;
  const cur = filter.structure();
  const g = filter.generalisedForces(lennardJones(cur, lj), volume(cur.lattice), true);
  const energyAt = (): number => lennardJones(filter.structure(), lj).energy;
  const h = 1e-6;
  const probes: number[][] = [[0], [4], [3 * n], [3 * n + 4], [3 * n + 8], [3 * n + 1, 3 * n + 3], [3 * n + 5, 3 * n + 7]];
  for (const idx of probes) {
    const saved = idx.map((i) => filter.coords[i]!);
    idx.forEach((i) => (filter.coords[i]! += h));
    const ep = energyAt();
    idx.forEach((i, q) => (filter.coords[i] = saved[q]! - h));
    const em = energyAt();
    idx.forEach((i, q) => (filter.coords[i] = saved[q]!));
    const fd = -(ep - em) / (2 * h);
    const analytic = idx.reduce((acc, i) => acc + g[i]!, 0);
    assert.ok(Math.abs(fd - analytic) < 1e-7 * Math.max(1, Math.abs(fd)), `coords ${idx.join('+')}: ${fd} vs ${analytic}`);
  }
});

test('FIRE + cell filter reproduce ASE\'s relaxations step by step (energies, fmax, steps, final cell)', () => {
  const results = relaxStructures(fixture.cases.map(structureOf), lennardJonesBatch(lj), { fmax: 0.01, maxSteps: 400, trajectory: true });
  fixture.cases.forEach((c, k) => {
    // the cases have their own fmax / step caps
    const r = c.fmax === 0.01 && c.maxSteps === 400 ? results[k]! : relaxStructures([structureOf(c)], lennardJonesBatch(lj), { fmax: c.fmax, maxSteps: c.maxSteps, trajectory: true })[0]!;
    assert.equal(r.converged, c.converged, c.name);
    assert.equal(r.steps, c.steps, c.name);
    assert.equal(r.trajectory!.length, c.energies.length, c.name);
    r.trajectory!.forEach((f, i) => {
      assert.ok(Math.abs(f.energy - c.energies[i]!) < 1e-9, `${c.name} step ${i}: E ${f.energy} vs ${c.energies[i]}`);
      assert.ok(Math.abs(f.fmax - c.fmaxes[i]!) < 1e-7, `${c.name} step ${i}: fmax ${f.fmax} vs ${c.fmaxes[i]}`);
    });
    c.final.lattice.forEach((v, i) => assert.ok(Math.abs(r.final.lattice[i]! - v) < 1e-8, `${c.name} lattice ${i}`));
    c.final.frac.forEach((v, i) => assert.ok(Math.abs(r.final.frac[i]! - v) < 1e-8, `${c.name} frac ${i}: ${r.final.frac[i]} vs ${v}`));
    assert.ok(r.energy < r.initialEnergy);
  });
});

test('relaxation: positions only keeps the cell; bad options are refused', () => {
  const s = structureOf(fixture.cases[0]!);
  const [r] = relaxStructures([s], lennardJonesBatch(lj), { relaxCell: false, fmax: 0.01 });
  assert.deepEqual(Array.from(r!.final.lattice), Array.from(s.lattice));
  assert.ok(r!.converged);
  assert.throws(() => relaxStructures([s], lennardJonesBatch(lj), { fmax: 0 }), /fmax must be positive/);
  assert.throws(() => relaxStructures([s], lennardJonesBatch(lj), { maxSteps: -1 }), /maxSteps/);
});
