/**
 * One kldm benchmark run in its own process (so that its peak RSS is its own):
 * median seconds per training step (zeroGrad + forward + backward + AdamW) and
 * per inference forward, FLOPs counted from the GEMM calls actually made.
 * Usage: tsx bench/engine/worker.ts <counts comma-separated> <steps> <config json> [engine] [gemm backend] [precisions]
 * precisions: comma-separated engine precisions (f32,bf16): each gets its own network and
 * optimiser on identical initial weights, and their steps are interleaved (f32 step, bf16 step,
 * f32 step, ...) so that both see the same load from other processes on the machine; their
 * ratio is then measured in one run. Prints one JSON line (one entry per precision under
 * `precisions`, and the first precision's figures at the top level as before).
 */
import { CSPVNet } from '../../src/network/cspvnet.js';
import { initParams } from '../../src/network/params.js';
import { AdamW } from '../../src/network/optim.js';
import type { CSPVNetConfig } from '../../src/network/config.js';
import { buildEdges } from '../../src/network/graph.js';
import { referenceKernels } from '../../src/engine/reference.js';
import { loadNativeKernels, type GemmBackendName } from '../../src/engine/native.js';
import type { Kernels } from '../../src/engine/kernels.js';
import { parsePrecision, resolvePrecision, type Precision } from '../../src/engine/precision.js';
import { Rng } from '../../src/util/rng.js';
import { randomInput } from './workloads.js';

const [countsArg, stepsArg, configArg, engineArg = 'native', backendArg = 'auto', precisionsArg = 'f32'] = process.argv.slice(2);
const precisions = precisionsArg.split(',').map((p) => parsePrecision(p, 'bench worker precisions'));
const counts = countsArg!.split(',').map(Number);
const steps = Number(stepsArg);
const config = JSON.parse(configArg!) as CSPVNetConfig;

let kernelsFor = (p: Precision): Kernels => {
  if (p !== 'f32') throw new Error(`the reference engine has no ${p} path`);
  return referenceKernels;
};
if (engineArg === 'native') {
  const n = loadNativeKernels();
  if (!n) throw new Error(`native engine unavailable: ${loadNativeKernels.lastError}`);
  n.kernels.setGemmBackend(backendArg as GemmBackendName);
  kernelsFor = (p) => {
    const choice = resolvePrecision(p, n.kernels.precisionCapabilities());
    if (choice.precision !== p) throw new Error(choice.line);
    return n.kernels.withPrecision(p);
  };
}

/** Counts 2·m·n·k per GEMM call while delegating to the real kernels. */
function counting(k: Kernels): { kernels: Kernels; flops: () => number; reset: () => void } {
  let flops = 0;
  const proxy = new Proxy(k, {
    get(target, prop, recv) {
      if (prop === 'gemm') {
        return (...a: Parameters<Kernels['gemm']>) => {
          flops += 2 * a[2] * a[3] * a[4];
          return target.gemm(...a);
        };
      }
      const v = Reflect.get(target, prop, recv) as unknown;
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { kernels: proxy, flops: () => flops, reset: () => { flops = 0; } };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const input = randomInput(counts);
const rng = new Rng(7);
const gv = Float32Array.from({ length: 3 * input.layout.numAtoms }, () => rng.normal() * 1e-3);
const gl = Float32Array.from({ length: 6 * input.layout.numCrystals }, () => rng.normal() * 1e-3);

interface Run {
  precision: Precision;
  kernels: Kernels;
  ctr: ReturnType<typeof counting>;
  net: CSPVNet;
  trainStep: () => void;
  stepTimes: number[];
  stepCpu: number[];
  fwdTimes: number[];
  fwdCpu: number[];
  flopsStep: number;
  flopsFwd: number;
}

const runs: Run[] = precisions.map((precision) => {
  const k = kernelsFor(precision);
  const params = initParams(config, new Rng(42));
  const ctr = counting(k);
  const net = new CSPVNet(config, params, ctr.kernels);
  const opt = new AdamW(params, {}, k);
  const trainStep = (): void => {
    params.zeroGrad();
    net.forward(input);
    net.backward({ v: gv, l: gl });
    opt.step();
  };
  return { precision, kernels: k, ctr, net, trainStep, stepTimes: [], stepCpu: [], fwdTimes: [], fwdCpu: [], flopsStep: 0, flopsFwd: 0 };
});

function timed(f: () => void, times: number[], cpu: number[]): void {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  times.push((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1e6);
}

for (const r of runs) {
  r.ctr.reset();
  r.trainStep(); // warm-up (allocations, BLAS thread start, oneDNN primitives) and FLOP count
  r.flopsStep = r.ctr.flops();
}
for (let s = 0; s < steps; s++) for (const r of runs) timed(r.trainStep, r.stepTimes, r.stepCpu);
for (const r of runs) {
  r.ctr.reset();
  r.net.predict(input);
  r.flopsFwd = r.ctr.flops();
}
for (let s = 0; s < steps; s++) for (const r of runs) timed(() => r.net.predict(input), r.fwdTimes, r.fwdCpu);

const summary = (r: Run): Record<string, unknown> => {
  const stepMedian = median(r.stepTimes);
  const fwdMedian = median(r.fwdTimes);
  return {
    engine: r.kernels.name, precision: r.precision, stepMedianS: stepMedian, stepTimesS: r.stepTimes, fwdMedianS: fwdMedian, fwdTimesS: r.fwdTimes,
    stepCpuMedianS: median(r.stepCpu), fwdCpuMedianS: median(r.fwdCpu),
    flopsStep: r.flopsStep, flopsFwd: r.flopsFwd, stepGflops: r.flopsStep / stepMedian / 1e9, fwdGflops: r.flopsFwd / fwdMedian / 1e9,
  };
};
const all = runs.map(summary);
process.stdout.write(`${JSON.stringify({
  ...all[0], gemm: backendArg, crystals: counts.length, atoms: input.layout.numAtoms, edges: buildEdges(input.layout).numEdges,
  peakRssMiB: process.resourceUsage().maxRSS / 1024, precisions: all,
})}\n`);
