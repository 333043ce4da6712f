/**
 * Per-kernel time profile of one kldm training step, or of one forward pass (the sampling hot path:
 * a sampler step is one or two of them), after one warm-up. Compare KLDM_THREADS=1 and 2 to see
 * which kernels scale with threads.
 * Usage: tsx bench/engine/profile.ts [perov5|mp20] [auto|openblas|dnnl] [quick|medium|full] [f32|bf16] [step|forward]
 */
import { CSPVNet } from '../../src/network/cspvnet.js';
import { initParams } from '../../src/network/params.js';
import { AdamW } from '../../src/network/optim.js';
import { PAPER_CONFIG } from '../../src/network/config.js';
import { loadNativeKernels, type GemmBackendName } from '../../src/engine/native.js';
import type { Kernels } from '../../src/engine/kernels.js';
import { Rng } from '../../src/util/rng.js';
import { atomCounts, randomInput, type WorkloadName } from './workloads.js';

const [workload = 'mp20', backend = 'auto', size = 'full', precision = 'f32', what = 'step'] = process.argv.slice(2);
if (what !== 'step' && what !== 'forward') throw new Error(`the fifth argument is step or forward, got ${what}`);
const native = loadNativeKernels();
if (!native) throw new Error(`native engine unavailable: ${loadNativeKernels.lastError}`);
native.kernels.setGemmBackend(backend as GemmBackendName);
const times = new Map<string, [number, number, number]>();
const timed = new Proxy(native.kernels.withPrecision(precision === 'bf16' ? 'bf16' : 'f32') as Kernels, {
  get(target, prop, recv) {
    const v = Reflect.get(target, prop, recv) as unknown;
    if (typeof v !== 'function') return v;
    return (...a: number[]) => {
      let key = String(prop);
      let flops = 0;
      if (prop === 'gemm') {
        key = `gemm ${a[0] ? 'T' : 'N'}${a[1] ? 'T' : 'N'} m=${a[2]} n=${a[3]} k=${a[4]}`;
        flops = 2 * a[2]! * a[3]! * a[4]!;
      }
      const t0 = performance.now();
      const res = (v as (...x: unknown[]) => unknown).apply(target, a);
      const e = times.get(key) ?? [0, 0, 0];
      e[0] += performance.now() - t0;
      e[1]++;
      e[2] += flops;
      times.set(key, e);
      return res;
    };
  },
});
// quick: a small smoke size; medium: the cpu-medium preset's network (H 192, L 4, F 32, D_t 64)
const cfg = size === 'quick' ? { ...PAPER_CONFIG, hidden: 128, layers: 2, freqs: 32, timeDim: 64 } : size === 'medium' ? { ...PAPER_CONFIG, hidden: 192, layers: 4, freqs: 32, timeDim: 64 } : PAPER_CONFIG;
const params = initParams(cfg, new Rng(1));
const input = randomInput(atomCounts(workload as WorkloadName, 256));
const net = new CSPVNet(cfg, params, timed);
const opt = new AdamW(params, {}, timed);
const gv = new Float32Array(3 * input.layout.numAtoms).fill(1e-3);
const gl = new Float32Array(6 * input.layout.numCrystals).fill(1e-3);
const step = (): void => {
  params.zeroGrad();
  net.forward(input);
  if (what === 'forward') return;
  net.backward({ v: gv, l: gl });
  opt.step();
};
step();
times.clear();
const t0 = performance.now();
step();
const total = performance.now() - t0;
const rows = [...times.entries()].sort((a, b) => b[1][0] - a[1][0]);
let inKernels = 0;
for (const [, v] of rows) inKernels += v[0];
console.log(`${what} of ${input.layout.numCrystals} crystals: total ${total.toFixed(0)} ms, in kernels ${inKernels.toFixed(0)} ms`);
for (const [k, v] of rows.slice(0, 30)) {
  console.log(`${v[0].toFixed(1).padStart(8)} ms  x${v[1]}  ${v[2] ? `${(v[2] / v[0] / 1e6).toFixed(0)} GF/s` : ''}  ${k}`);
}
