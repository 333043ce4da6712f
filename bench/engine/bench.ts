/**
 * `npm run bench:engine`: kldm's engine against the PyTorch reference
 * (bench/reference/cspvnet.py, official edge-list style, 2 threads) on the two
 * workloads of issue #3, full spec network (spec §2, H 512, L 6, F 128, D_t 256):
 *   - median seconds per training step (zeroGrad + forward + backward + AdamW/AMSGrad)
 *   - median seconds per inference forward (PyTorch under torch.no_grad())
 *   - ratio PyTorch / kldm, kldm GFLOP/s (FLOPs of the GEMMs actually issued by the split
 *     formulation of spec §15), peak RSS of each engine's own process.
 * Each engine and workload runs in its own process so peak RSS is per run.
 * Options: --quick (small network, 64 crystals, 3 steps), --steps N, --json (last line: one
 * JSON object with every figure), --no-torch, --workloads perov5,mp20, --gemm auto|openblas|dnnl,
 * --precision f32,bf16 (default: both where the CPU has native bf16, else f32).
 * Precisions (docs/engine.md "Precision") run in ONE process with their steps interleaved
 * (f32, bf16, f32, ...), so the bf16/f32 ratio is measured under the same load from other jobs.
 * This is a measurement, not a test: the machine's load (uptime) is printed beside it.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAPER_CONFIG, type CSPVNetConfig } from '../../src/network/config.js';
import { atomCounts, type WorkloadName } from './workloads.js';
import { loadNativeKernels } from '../../src/engine/native.js';
import { parsePrecision } from '../../src/engine/precision.js';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : dflt;
};
const quick = flag('--quick');
const asJson = flag('--json');
const steps = Number(opt('--steps', quick ? '3' : '5'));
const crystals = quick ? 64 : 256;
const gemm = opt('--gemm', 'auto');
const workloads = opt('--workloads', 'perov5,mp20').split(',') as WorkloadName[];
const config: CSPVNetConfig = quick ? { ...PAPER_CONFIG, hidden: 128, timeDim: 64, layers: 2, freqs: 32 } : { ...PAPER_CONFIG };
const python = '/usr/bin/python3';
const nativeInfo = loadNativeKernels();
const bf16Here = nativeInfo?.kernels.precisionCapabilities().bf16 === true;
const precisions = opt('--precision', bf16Here ? 'f32,bf16' : 'f32').split(',').map((p) => parsePrecision(p, '--precision'));

interface PrecisionResult {
  precision: string;
  stepMedianS: number;
  fwdMedianS: number;
  stepCpuMedianS: number;
  fwdCpuMedianS: number;
  stepGflops: number;
  fwdGflops: number;
}

interface RunResult {
  precisions?: PrecisionResult[];
  stepMedianS: number;
  fwdMedianS: number;
  /** CPU seconds (user + system, all threads) per step: less sensitive than wall time to other jobs */
  stepCpuMedianS: number;
  fwdCpuMedianS: number;
  peakRssMiB: number;
  atoms: number;
  edges: number;
  stepGflops?: number;
  fwdGflops?: number;
  flopsStep?: number;
}

const log = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv): RunResult | { error: string } {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const lines = (r.stdout ?? '').trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (r.status !== 0 || !last.startsWith('{')) return { error: `${cmd} exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(last) as RunResult;
}

function torchAvailable(): boolean {
  const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  return r.status === 0;
}

const threadEnv = { OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' };
const withTorch = !flag('--no-torch') && torchAvailable();
const loadBefore = loadavg();
log(`kldm engine bench — ${new Date().toISOString()} — ${cpus()[0]?.model ?? 'cpu'} x${cpus().length} — load avg ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
log(`network: H=${config.hidden} Dt=${config.timeDim} L=${config.layers} F=${config.freqs}; ${crystals} crystals; median of ${steps} steps after 1 warm-up; PyTorch: ${withTorch ? '2 threads, OMP_WAIT_POLICY=PASSIVE' : flag('--no-torch') ? 'skipped (--no-torch)' : 'not available (no torch for /usr/bin/python3)'}`);

const results: Record<string, unknown> = {};
for (const w of workloads) {
  const counts = atomCounts(w, crystals);
  const ours = runJson(process.execPath, ['--import', 'tsx', join(here, 'worker.ts'), counts.join(','), String(steps), JSON.stringify(config), 'native', gemm, precisions.join(',')], threadEnv);
  const theirs = withTorch
    ? runJson(python, [join(here, '..', 'reference', 'cspvnet.py'), 'bench', '--counts', counts.join(','), '--steps', String(steps), '--threads', '2', '--config', JSON.stringify(config)], threadEnv)
    : null;
  const entry: Record<string, unknown> = { counts: { crystals, atoms: counts.reduce((a, b) => a + b, 0) } };
  if ('error' in ours) {
    log(`${w}: kldm failed: ${ours.error}`);
    entry['kldmError'] = ours.error;
  } else {
    entry['kldm'] = { stepS: ours.stepMedianS, fwdS: ours.fwdMedianS, stepCpuS: ours.stepCpuMedianS, fwdCpuS: ours.fwdCpuMedianS, stepGflops: ours.stepGflops, fwdGflops: ours.fwdGflops, flopsStep: ours.flopsStep, peakRssMiB: ours.peakRssMiB, atoms: ours.atoms, edges: ours.edges };
    log(`${w} (${ours.atoms} atoms, ${ours.edges} edges)`);
    for (const p of ours.precisions ?? []) {
      log(`  kldm ${p.precision.padEnd(4)} step ${p.stepMedianS.toFixed(3)} s  (${p.stepGflops.toFixed(0)} GFLOP/s, ${p.stepCpuMedianS.toFixed(3)} CPU-s)   forward ${p.fwdMedianS.toFixed(3)} s  (${p.fwdGflops.toFixed(0)} GFLOP/s, ${p.fwdCpuMedianS.toFixed(3)} CPU-s)`);
    }
    log(`  peak RSS ${ours.peakRssMiB.toFixed(0)} MiB (one process for all precisions)`);
    const f = ours.precisions?.find((p) => p.precision === 'f32');
    const b = ours.precisions?.find((p) => p.precision === 'bf16');
    if (f && b) {
      const ratio = { step: f.stepMedianS / b.stepMedianS, fwd: f.fwdMedianS / b.fwdMedianS, stepCpu: f.stepCpuMedianS / b.stepCpuMedianS, fwdCpu: f.fwdCpuMedianS / b.fwdCpuMedianS };
      entry['bf16'] = { stepS: b.stepMedianS, fwdS: b.fwdMedianS, stepCpuS: b.stepCpuMedianS, fwdCpuS: b.fwdCpuMedianS, stepGflops: b.stepGflops, fwdGflops: b.fwdGflops };
      entry['bf16SpeedUp'] = ratio;
      log(`  bf16 speed-up over f32 (same process, interleaved): step ${ratio.step.toFixed(2)}x   forward ${ratio.fwd.toFixed(2)}x   (CPU time: step ${ratio.stepCpu.toFixed(2)}x, forward ${ratio.fwdCpu.toFixed(2)}x)`);
    }
  }
  if (theirs && 'error' in theirs) {
    log(`  pytorch  failed: ${theirs.error}`);
    entry['pytorchError'] = theirs.error;
  } else if (theirs) {
    entry['pytorch'] = { stepS: theirs.stepMedianS, fwdS: theirs.fwdMedianS, stepCpuS: theirs.stepCpuMedianS, fwdCpuS: theirs.fwdCpuMedianS, peakRssMiB: theirs.peakRssMiB };
    log(`  pytorch  step ${theirs.stepMedianS.toFixed(3)} s  (${theirs.stepCpuMedianS.toFixed(3)} CPU-s)   forward ${theirs.fwdMedianS.toFixed(3)} s  (${theirs.fwdCpuMedianS.toFixed(3)} CPU-s)   peak RSS ${theirs.peakRssMiB.toFixed(0)} MiB`);
    if (!('error' in ours)) {
      const rs = theirs.stepMedianS / ours.stepMedianS;
      const rf = theirs.fwdMedianS / ours.fwdMedianS;
      entry['ratioStep'] = rs;
      entry['ratioFwd'] = rf;
      entry['ratioStepCpu'] = theirs.stepCpuMedianS / ours.stepCpuMedianS;
      entry['ratioFwdCpu'] = theirs.fwdCpuMedianS / ours.fwdCpuMedianS;
      log(`  speed-up step ${rs.toFixed(2)}x   forward ${rf.toFixed(2)}x   (CPU time: step ${(entry['ratioStepCpu'] as number).toFixed(2)}x, forward ${(entry['ratioFwdCpu'] as number).toFixed(2)}x)`);
    }
  }
  results[w] = entry;
}
const loadAfter = loadavg();
log(`load avg after: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
if (asJson) {
  process.stdout.write(`${JSON.stringify({
    date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, loadBefore, loadAfter,
    config, crystals, steps, gemm, precisions, torch: withTorch, workloads: results,
  })}\n`);
}
