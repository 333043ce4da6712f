/**
 * Step-time measurement for a training config: full training steps (noisy batch, forward,
 * backward, AdamW) on batches whose atom counts follow a given distribution (positions, types and
 * lattices random: the cost depends only on the shapes). Used to size the CPU presets
 * (docs/training.md) and by `kldm train --benchmark`.
 */
import { makeLayout } from '../network/types.js';
import type { Kernels } from '../engine/kernels.js';
import { kernelsForPrecision } from '../engine/select.js';
import { cspLoss, makeNoisyCspBatch } from '../diffusion/loss.js';
import { Rng } from '../util/rng.js';
import type { TrainConfig } from './config.js';
import { netConfigOfTraining, TrainableModel } from './model.js';
import type { CleanBatch } from './batches.js';

/** Atom-count weights (index = N) of the benchmark datasets (spec constants file: empirical distributions). */
export const ATOM_COUNT_DISTRIBUTIONS: Record<string, number[]> = {
  perov_5: [0, 0, 0, 0, 0, 1],
  mp_20: [
    0.0, 0.0021742334905660377, 0.021079009433962265, 0.019826061320754717, 0.15271226415094338, 0.047132959905660375,
    0.08464770047169812, 0.021079009433962265, 0.07808814858490566, 0.03434551886792453, 0.0972877358490566,
    0.013303360849056603, 0.09669811320754718, 0.02155807783018868, 0.06522700471698113, 0.014372051886792452,
    0.06703272405660378, 0.00972877358490566, 0.053176591981132074, 0.010576356132075472, 0.08995430424528301,
  ],
};

function drawCount(weights: number[], rng: Rng): number {
  let total = 0;
  for (const w of weights) total += w;
  let u = rng.uniform() * total;
  for (let n = 0; n < weights.length; n++) {
    u -= weights[n]!;
    if (u < 0) return n;
  }
  return weights.length - 1;
}

/** A random batch of `G` crystals with atom counts drawn from `weights`. */
export function randomBatch(G: number, weights: number[], rng: Rng): CleanBatch {
  const counts = Array.from({ length: G }, () => drawCount(weights, rng));
  const layout = makeLayout(counts);
  const types = new Int32Array(layout.numAtoms);
  for (let i = 0; i < types.length; i++) types[i] = 1 + rng.int(94);
  const frac = new Float32Array(layout.numAtoms * 3);
  rng.fillUniform(frac);
  const lattice = new Float32Array(G * 6);
  rng.fillNormal(lattice);
  return { layout, crystals: new Int32Array(G), types, frac, lattice };
}

export interface StepTiming {
  config: string;
  dataset: string;
  batchSize: number;
  numParams: number;
  kernels: string;
  /** median seconds per training step over the measured steps */
  medianStepSeconds: number;
  steps: number;
  /** median seconds of one inference forward pass over the same batch (sampling cost per step) */
  medianForwardSeconds: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Times `steps` training steps (after one warm-up step) on random batches shaped like `dataset`. */
export function benchmarkSteps(config: TrainConfig, dataset: string, steps: number, kernels?: Kernels): StepTiming {
  const weights = ATOM_COUNT_DISTRIBUTIONS[dataset];
  if (!weights) throw new Error(`no atom-count distribution for ${dataset}`);
  const rng = new Rng(1);
  const model = TrainableModel.fresh(netConfigOfTraining(config), config.optim, config.schedule.emaDecay, rng, kernels ?? kernelsForPrecision(config.engine.precision));
  const times: number[] = [];
  const fwd: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const batch = randomBatch(config.optim.batchSize, weights, rng);
    const t0 = performance.now();
    const noisy = makeNoisyCspBatch(batch, rng, { latticeParameterisation: config.lattice.parameterisation });
    model.params.zeroGrad();
    const out = model.net.forward(noisy.input);
    const loss = cspLoss(out, noisy);
    model.net.backward(loss.grad);
    model.optimizer.step();
    const t1 = performance.now();
    model.net.predict(noisy.input);
    const t2 = performance.now();
    if (i > 0) {
      times.push((t1 - t0) / 1000);
      fwd.push((t2 - t1) / 1000);
    }
  }
  return {
    config: config.name, dataset, batchSize: config.optim.batchSize, numParams: model.params.numTrainable(), kernels: model.net.kernels.name,
    medianStepSeconds: median(times), steps, medianForwardSeconds: median(fwd),
  };
}
