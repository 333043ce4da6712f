/**
 * Throughput of `kldm relax` (issue #15): FIRE + exponential cell filter (src/relax) on the shipped
 * M3GNet through the batched engine path (m3gnetBatch, src/potential/fast.ts), as the DNG
 * stability metrics run it. The set is fixed: the first N Perov-5 test structures and the MP-20
 * structures of bench/reference/fixtures/m3gnet_mp20.json, each rattled by a seeded displacement
 * (Gaussian, --rattle Å per Cartesian component) and a seeded symmetric strain (--strain), so
 * every run relaxes the same starting points. All structures are relaxed together in batches of
 * --batch (as `kldm relax --batch-size`).
 *
 *   npm run bench:relax [-- --perov 40 --mp20 12 --max-steps 300 --batch 64 --impl src/potential/fast.ts,...]
 *
 * --impl takes one or more modules exporting m3gnetBatch (e.g. a saved copy of an older
 * fast.ts) and runs the same relaxation with each in turn in this one process, so rows measured
 * in one sitting can be compared; the first row is the baseline of the printed ratios.
 * Prints one JSON line per implementation: structures, FIRE steps (summed over structures) and
 * atoms·steps per wall second and per CPU second (process CPU time, all threads: the figure that
 * survives a shared, loaded machine), with KLDM_THREADS and the load average.
 * Needs the Perov-5 dataset and the M3GNet weights in the asset store (kldm assets fetch).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import type { Matrix3, Structure } from '../../src/crystal/types.js';
import { fromParameters } from '../../src/crystal/lattice.js';
import { elementSymbol } from '../../src/crystal/elements.js';
import { loadSplit } from '../../src/data/prepare.js';
import { getKernels } from '../../src/engine/select.js';
import { loadShippedM3GNet } from '../../src/potential/shipped.js';
import type { m3gnetBatch as M3gnetBatch } from '../../src/potential/fast.js';
import type { PassWorkspace } from '../../src/potential/workspace.js';
import { relaxStructures } from '../../src/relax/relax.js';
import { Rng } from '../../src/util/rng.js';

const { values } = parseArgs({
  options: {
    perov: { type: 'string', default: '40' },
    mp20: { type: 'string', default: '12' },
    'max-steps': { type: 'string', default: '300' },
    batch: { type: 'string', default: '64' },
    rattle: { type: 'string', default: '0.05' },
    strain: { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '7' },
    impl: { type: 'string', default: 'src/potential/fast.ts' },
  },
});
const count = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer (got '${v}')`);
  return n;
};
const nPerov = count('perov', values.perov), nMp20 = count('mp20', values.mp20);
const maxSteps = count('max-steps', values['max-steps']), batch = Math.max(1, count('batch', values.batch));
const rattle = Number(values.rattle), strain = Number(values.strain);

function perovTest(n: number): Structure[] {
  const p = loadSplit('perov_5', 'test');
  const out: Structure[] = [];
  for (let k = 0; k < Math.min(n, p.materialIds.length); k++) {
    const a = p.atomOffsets[k]!, b = p.atomOffsets[k + 1]!;
    const lattice = fromParameters({
      a: p.lengths[3 * k]!, b: p.lengths[3 * k + 1]!, c: p.lengths[3 * k + 2]!,
      alpha: p.angles[3 * k]!, beta: p.angles[3 * k + 1]!, gamma: p.angles[3 * k + 2]!,
    });
    out.push({ lattice, species: Array.from(p.atomTypes.subarray(a, b), (z) => elementSymbol(z)), frac: Float64Array.from(p.frac.subarray(3 * a, 3 * b)) });
  }
  return out;
}

function mp20Fixture(n: number): Structure[] {
  const fixture = JSON.parse(readFileSync(new URL('../reference/fixtures/m3gnet_mp20.json', import.meta.url), 'utf8')) as {
    structures: { lattice: number[]; species: string[]; frac: number[] }[];
  };
  return fixture.structures.slice(0, n).map((s) => ({ lattice: s.lattice as Matrix3, species: s.species, frac: Float64Array.from(s.frac) }));
}

/** L' = L (I + ε) with ε symmetric Gaussian (σ = strain); positions moved by Gaussian Cartesian noise (σ = rattle). */
function rattled(s: Structure, rng: Rng): Structure {
  const e = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 3; i++) for (let j = i; j < 3; j++) e[3 * i + j] = e[3 * j + i] = strain * rng.normal();
  const L = s.lattice;
  const lattice = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((q) => {
    const r = Math.floor(q / 3), c = q % 3;
    return L[3 * r + c]! + L[3 * r]! * e[c]! + L[3 * r + 1]! * e[3 + c]! + L[3 * r + 2]! * e[6 + c]!;
  }) as unknown as Matrix3;
  // Δfrac = Δcart · L'^{-1}: solve with the rows of L' (Cramer on the 3x3 system)
  const m = lattice;
  const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  const inv = [
    (m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
    (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
    (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det,
  ];
  const frac = Float64Array.from(s.frac);
  for (let i = 0; i < s.species.length; i++) {
    const d = [rattle * rng.normal(), rattle * rng.normal(), rattle * rng.normal()];
    for (let k = 0; k < 3; k++) frac[3 * i + k]! += d[0]! * inv[k]! + d[1]! * inv[3 + k]! + d[2]! * inv[6 + k]!;
  }
  return { lattice, species: s.species, frac };
}

const rng = new Rng(count('seed', values.seed));
const structures = [...perovTest(nPerov), ...mp20Fixture(nMp20)].map((s) => rattled(s, rng));
const model = loadShippedM3GNet();
const kernels = getKernels();
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const impls = values.impl.split(',').filter((p) => p !== '');

let base: { perCpu: number; perWall: number } | null = null;
for (const impl of impls) {
  const mod = (await import(resolve(impl))) as { m3gnetBatch: typeof M3gnetBatch; PassWorkspace?: new () => PassWorkspace };
  // as m3gnetPotential does: one scratch workspace for all calls, where the implementation has one
  const workspace = mod.PassWorkspace ? new mod.PassWorkspace() : undefined;
  const potential = (batchOf: readonly Structure[]) => mod.m3gnetBatch(model, batchOf, { kernels, ...(workspace ? { workspace } : {}) });
  potential(structures.slice(0, 2)); // warm-up (weights converted, code compiled)
  const c0 = process.cpuUsage(), t0 = performance.now();
  let steps = 0, atomSteps = 0, converged = 0, energy = 0;
  for (let start = 0; start < structures.length; start += batch) {
    for (const r of relaxStructures(structures.slice(start, start + batch), potential, { maxSteps })) {
      steps += r.steps;
      atomSteps += r.steps * r.initial.species.length;
      if (r.converged) converged++;
      energy += r.energy;
    }
  }
  const wall = (performance.now() - t0) / 1000, cpu = cpuSeconds(process.cpuUsage(c0));
  const row = {
    impl,
    kernels: kernels.name,
    KLDM_THREADS: process.env['KLDM_THREADS'] ?? null,
    structures: structures.length,
    converged,
    fireSteps: steps,
    // the sum of final energies: equal across implementations up to float32 rounding (same trajectories)
    sumFinalEnergy: +energy.toFixed(4),
    wallSeconds: +wall.toFixed(2),
    cpuSeconds: +cpu.toFixed(2),
    structuresPerSecond: +(structures.length / wall).toFixed(3),
    structuresPerCpuSecond: +(structures.length / cpu).toFixed(3),
    stepsPerSecond: +(steps / wall).toFixed(1),
    stepsPerCpuSecond: +(steps / cpu).toFixed(1),
    atomStepsPerSecond: +(atomSteps / wall).toFixed(0),
    atomStepsPerCpuSecond: +(atomSteps / cpu).toFixed(0),
    loadAverage1m: +loadavg()[0]!.toFixed(1),
    // scratch memory the potential keeps between FIRE steps (null: the implementation has no workspace)
    workspaceMB: workspace ? +(workspace.bytesHeld() / 1e6).toFixed(1) : null,
  };
  // per step, not per structure: the implementations may take slightly different numbers of steps
  const perCpu = steps / cpu, perWall = steps / wall;
  base ??= { perCpu, perWall };
  console.log(JSON.stringify({ ...row, speedupPerCpuSecond: +(perCpu / base.perCpu).toFixed(2), speedupPerWallSecond: +(perWall / base.perWall).toFixed(2) }));
}
