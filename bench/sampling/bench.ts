/**
 * `npm run bench:sampling`: throughput of CSP sampling with the shipped models (the hot path of
 * `kldm predict` and `kldm sample`, spec §7), on the first test materials of each model's dataset.
 *
 * For each model and batch size: seconds per sampler step (EM: one network call; PC: two), the
 * network's share of it, crystal-steps per second, and the projected wall clock of a full-test
 * @1 run with 1000 steps at that rate. Batch sizes: the default of `kldm sample`
 * (edgeBudgetBatchSize) and the multiples given with --scales.
 *
 *   npm run bench:sampling [-- --steps 10 --models perov5-cpu-small,mp20-cpu-small,mp20-cpu-medium --scales 0.5,1,2 --precisions f32,bf16 --json]
 *
 * --precisions: engine precisions (docs/engine.md "Precision"; default f32). Several run on the same
 * weights with their sampler steps interleaved (f32 step, bf16 step, ...), so their ratio is measured
 * under the same load from other processes.
 *
 * DNG models (task 'dng', docs/dng.md) are timed on the same batches with their types generated
 * too (the type process of their variant); their line also gives structures per second at 1000 steps.
 *
 * A measurement, not a test: the load average is printed beside it, and CPU seconds of this process
 * (all threads) per step are reported too, which vary less than wall time when other jobs share the cores.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { dngTypeDiffusion, getModel, loadModelNetwork } from '../../src/predict/registry.js';
import { loadSplit } from '../../src/data/prepare.js';
import { makeLayout, type NetInput, type NetOutput, type ScoreNetwork } from '../../src/network/types.js';
import { CspSampler, type SamplerMethod } from '../../src/sampling/sampler.js';
import { edgeBudgetBatchSize } from '../../src/training/batches.js';
import { Rng } from '../../src/util/rng.js';
import { CSPVNet } from '../../src/network/cspvnet.js';
import type { ParamStore } from '../../src/network/params.js';
import { parsePrecision, type Precision } from '../../src/engine/precision.js';
import { enginePrecision, kernelsForPrecision } from '../../src/engine/select.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    models: { type: 'string', default: 'perov5-cpu-small,mp20-cpu-small,mp20-cpu-medium' },
    scales: { type: 'string', default: '0.5,1,2' },
    samplers: { type: 'string', default: 'em,pc' },
    precisions: { type: 'string', default: 'f32' },
    json: { type: 'boolean', default: false },
  },
});
const timedSteps = Math.max(1, Number(values.steps));
const scales = values.scales.split(',').map(Number);
const samplers = values.samplers.split(',') as SamplerMethod[];
const precisions = values.precisions.split(',').map((p) => parsePrecision(p, '--precisions'));
for (const p of precisions) {
  const used = enginePrecision(p).precision;
  if (used !== p) throw new Error(`${enginePrecision(p).line}: cannot bench ${p}`);
}

/** Wraps a network to time its calls (the rest of a step is the sampler's own arithmetic). */
class TimedNetwork implements ScoreNetwork {
  seconds = 0;
  constructor(private readonly inner: ScoreNetwork) {}
  predict(input: NetInput): NetOutput {
    const t = performance.now();
    const out = this.inner.predict(input);
    this.seconds += (performance.now() - t) / 1000;
    return out;
  }
}

interface Row {
  model: string;
  precision: Precision;
  sampler: SamplerMethod;
  crystals: number;
  atoms: number;
  edges: number;
  stepSeconds: number;
  stepCpuSeconds: number;
  networkShare: number;
  crystalStepsPerSecond: number;
  fullTestMinutes: number;
  testMaterials: number;
}

const cpuSeconds = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;
const rows: Row[] = [];
const load0 = loadavg();
process.stdout.write(`kldm sampling bench — ${new Date().toISOString()} — ${cpus()[0]?.model ?? 'cpu'} x${cpus().length} — load avg ${load0.map((x) => x.toFixed(2)).join(' ')}\n`);
process.stdout.write(`${timedSteps} timed steps after 2 warm-up steps; KLDM_THREADS=${process.env['KLDM_THREADS'] ?? '(default)'}\n`);

for (const name of values.models.split(',')) {
  const entry = getModel(name);
  const base = loadModelNetwork(entry);
  const nets = precisions.map((p) => ({ precision: p, net: new TimedNetwork(new CSPVNet(base.config, base.params as ParamStore<Float32Array>, kernelsForPrecision(p))) }));
  const dng = entry.manifest.task === 'dng' ? dngTypeDiffusion(entry.manifest) : null;
  const test = loadSplit(entry.manifest.dataset, 'test');
  const counts: number[] = [];
  for (let g = 0; g + 1 < test.atomOffsets.length; g++) counts.push(test.atomOffsets[g + 1]! - test.atomOffsets[g]!);
  const defaultBatch = edgeBudgetBatchSize(counts);
  for (const scale of scales) {
    const crystals = Math.max(1, Math.min(counts.length, Math.round(defaultBatch * scale)));
    const layout = makeLayout(counts.slice(0, crystals));
    const types = test.atomTypes.slice(0, layout.numAtoms);
    let edges = 0;
    for (let g = 0; g < crystals; g++) edges += counts[g]! * (counts[g]! - 1);
    for (const sampler of samplers) {
      // a 1000-step grid; the timed steps are taken from its start (the cost per step does not depend on t)
      const runs = nets.map(({ precision, net }) => {
        const typeDiffusion = dng ? { typeDiffusion: { kind: dng.kind, maskSchedule: dng.maskSchedule } } : {};
        const s = new CspSampler(net, { layout, types, ...typeDiffusion }, new Rng(7), { method: sampler, nSteps: 1000 });
        s.prior();
        s.step(0);
        s.step(1);
        net.seconds = 0;
        return { precision, net, s, wall: 0, cpu: 0 };
      });
      for (let i = 0; i < timedSteps; i++) {
        for (const r of runs) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          r.s.step(2 + i);
          r.wall += (performance.now() - t0) / 1000;
          r.cpu += cpuSeconds(process.cpuUsage(c0));
        }
      }
      for (const run of runs) {
        const wall = run.wall / timedSteps;
        const cpu = run.cpu / timedSteps;
        const rate = crystals / wall;
        rows.push({
          model: name,
          precision: run.precision,
          sampler,
          crystals,
          atoms: layout.numAtoms,
          edges,
          stepSeconds: wall,
          stepCpuSeconds: cpu,
          networkShare: run.net.seconds / timedSteps / wall,
          crystalStepsPerSecond: rate,
          fullTestMinutes: (counts.length * 1000) / rate / 60,
          testMaterials: counts.length,
        });
        const r = rows[rows.length - 1]!;
        process.stdout.write(
          `${name.padEnd(16)} ${run.precision.padEnd(4)} ${sampler.toUpperCase()} batch ${String(crystals).padStart(4)} (${String(edges).padStart(6)} edges${scale === 1 ? ', default' : ''}): ` +
            `${(wall * 1000).toFixed(1)} ms/step (CPU ${(cpu * 1000).toFixed(1)} ms), network ${(r.networkShare * 100).toFixed(1)} %, ` +
            `${rate.toFixed(0)} crystal-steps/s, ` +
            (dng ? `DNG ${dng.kind}: ${(rate / 1000).toFixed(2)} structures/s at 1000 steps\n` : `full test (${counts.length}) @1 ≈ ${r.fullTestMinutes.toFixed(1)} min\n`),
        );
      }
      if (runs.length === 2) {
        const [a, b] = runs as [typeof runs[0], typeof runs[0]];
        process.stdout.write(`${''.padEnd(16)} ${b.precision} vs ${a.precision} (interleaved): ${(a.wall / b.wall).toFixed(2)}x steps/s (CPU time ${(a.cpu / b.cpu).toFixed(2)}x)\n`);
      }
    }
  }
}
process.stdout.write(`load avg after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
if (values.json) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), loadBefore: load0, loadAfter: loadavg(), timedSteps, rows })}\n`);
