/**
 * One kldm benchmark run in its own process (so that its peak RSS is its own):
 * median seconds per training step (zeroGrad + forward + backward + AdamW) and
 * per inference forward, FLOPs counted from the GEMM calls actually made.
 * Usage: tsx bench/engine/worker.ts <counts comma-separated> <steps> <config json> [engine] [gemm backend]
 * Prints one JSON line.
 */
import { CSPVNet } from '../../src/network/cspvnet.js';
import { initParams } from '../../src/network/params.js';
import { AdamW } from '../../src/network/optim.js';
import type { CSPVNetConfig } from '../../src/network/config.js';
import { buildEdges } from '../../src/network/graph.js';
import { referenceKernels } from '../../src/engine/reference.js';
import { loadNativeKernels, type GemmBackendName } from '../../src/engine/native.js';
import type { Kernels } from '../../src/engine/kernels.js';
import { Rng } from '../../src/util/rng.js';
import { randomInput } from './workloads.js';

const [countsArg, stepsArg, configArg, engineArg = 'native', backendArg = 'auto'] = process.argv.slice(2);
const counts = countsArg!.split(',').map(Number);
const steps = Number(stepsArg);
const config = JSON.parse(configArg!) as CSPVNetConfig;

let kernels: Kernels = referenceKernels;
if (engineArg === 'native') {
  const n = loadNativeKernels();
  if (!n) throw new Error(`native engine unavailable: ${loadNativeKernels.lastError}`);
  n.kernels.setGemmBackend(backendArg as GemmBackendName);
  kernels = n.kernels;
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

const params = initParams(config, new Rng(42));
const input = randomInput(counts);
const ctr = counting(kernels);
const net = new CSPVNet(config, params, ctr.kernels);
const opt = new AdamW(params, {}, kernels);
const rng = new Rng(7);
const gv = Float32Array.from({ length: 3 * input.layout.numAtoms }, () => rng.normal() * 1e-3);
const gl = Float32Array.from({ length: 6 * input.layout.numCrystals }, () => rng.normal() * 1e-3);

function trainStep(): void {
  params.zeroGrad();
  net.forward(input);
  net.backward({ v: gv, l: gl });
  opt.step();
}

ctr.reset();
trainStep(); // warm-up (allocations, BLAS thread start) and FLOP count
const flopsStep = ctr.flops();
const stepTimes: number[] = [];
const stepCpu: number[] = [];
for (let s = 0; s < steps; s++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  trainStep();
  stepTimes.push((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  stepCpu.push((c.user + c.system) / 1e6);
}
ctr.reset();
net.predict(input);
const flopsFwd = ctr.flops();
const fwdTimes: number[] = [];
const fwdCpu: number[] = [];
for (let s = 0; s < steps; s++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  net.predict(input);
  fwdTimes.push((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  fwdCpu.push((c.user + c.system) / 1e6);
}
const stepMedian = median(stepTimes);
const fwdMedian = median(fwdTimes);
process.stdout.write(`${JSON.stringify({
  engine: kernels.name, gemm: backendArg, crystals: counts.length, atoms: input.layout.numAtoms, edges: buildEdges(input.layout).numEdges,
  stepMedianS: stepMedian, stepTimesS: stepTimes, fwdMedianS: fwdMedian, fwdTimesS: fwdTimes,
  stepCpuMedianS: median(stepCpu), fwdCpuMedianS: median(fwdCpu),
  flopsStep, flopsFwd, stepGflops: flopsStep / stepMedian / 1e9, fwdGflops: flopsFwd / fwdMedian / 1e9,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
})}\n`);
