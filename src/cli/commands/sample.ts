/**
 * `kldm sample`: batched CSP sampling over a whole dataset split (or a CSV of compositions) with a
 * training checkpoint or a shipped model, writing the evaluator's JSON Lines; resumable.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { getDataset } from '../../data/registry.js';
import { loadSplit } from '../../data/prepare.js';
import { CSPVNet } from '../../network/cspvnet.js';
import { parsePrecision } from '../../engine/precision.js';
import { setEnginePrecision } from '../../engine/select.js';
import type { ScoreNetwork } from '../../network/types.js';
import type { LatticeStats } from '../../data/types.js';
import { paramsFromTensors } from '../../training/model.js';
import { readCheckpoint } from '../../training/trainer.js';
import { latticeParameterisationOf } from '../../training/config.js';
import { dngTypeDiffusion, getModel, loadModelNetwork, modelLatticeParameterisation } from '../../predict/registry.js';
import type { TypeDiffusionSpec } from '../../diffusion/typeDiffusion.js';
import type { VpParameterisation } from '../../diffusion/latticeVp.js';
import { checkSampleTargets, defaultSamplingBatchSize, existingPairs, parseRunPart, randomSubset, sampleSplit, type SampleTarget } from '../../predict/sampleSplit.js';
import { readCsvTargets } from '../../predict/csvTargets.js';
import { latticeToFeatures } from '../../diffusion/latticeFeatures.js';
import { modelWeightsSha256, planSampleShards, type SampleRunParams } from '../../queue/sampleShards.js';
import { parseQueueUrl } from '../../queue/url.js';
import { queueUsage, runQueuedCommand } from '../queue.js';
import type { SamplerMethod } from '../../sampling/sampler.js';
import { intOptionOr as intFlag } from '../args.js';

const usage = `Usage: kldm sample (--checkpoint <file> | --model <name>)
                   (--dataset <name> [--split test] | --dataset-csv <file.csv>)
                   --out <preds.jsonl> [options]

Samples k structures per composition of a split (CSP: the compositions and atom orders of the
ground truth) and appends {"material_id", "sample", "cif"} lines to --out, the format of
\`kldm evaluate csp\`. Re-running the same command skips pairs already written (resume).

Options:
  --checkpoint <file>         training checkpoint (EMA weights when present, spec §7.4)
  --model <name>              shipped model (kldm predict --list-models)
  --dataset <name> --split s  benchmark split (default split: test)
  --dataset-csv <file>        any CSV (optionally .gz) with material_id and cif columns
  --samples-per-material <k>  default 1 (@1); 20 for @20
  --limit <n>                 only the first n materials, sampled as the whole run samples them (same batches
                              and noise: the predictions are the whole run's for these materials)
  --part <k/n>                this process samples part k of n of the run: every n-th batch from the k-th,
                              with the whole run's noise. Run k = 1..n side by side (KLDM_THREADS=cores/n each;
                              on 2 cores two 1-thread parts sampled 1.1-1.3x faster than one 2-thread process),
                              each with its own --out, or on several machines without a queue; the parts'
                              lines together are the whole run's (cat them; kldm evaluate csp ignores order)
  --subset <n>                a fixed random subset of n materials (kept in split order; see --subset-seed)
  --subset-seed <s>           seed of the subset (default 0): the first n of Rng(s).permutation(materials)
  --sampler <pc|em>           default pc (spec §7.4 test setting)
  --steps <n>                 default 1000
  --t-final <t>               final time t_f (default 0.001; the reference's test command uses 0)
  --tau <τ>                   PC corrector step-size factor (spec §7.2; default 0.25; PC only)
  --seed <n>                  default 42
  --batch-size <n>            crystals per sampler batch (default: ~20,480 edges at H=128: 1024 for Perov-5, ~160 for MP-20)
  --precision <f32|bf16>     engine precision (default f32; bf16: bf16 GEMM operands, f32 accumulation, where
                              the CPU has native bf16; KLDM_PRECISION overrides it; docs/engine.md)
  --oracle-lattice            diagnostic, not CSP (--dataset only): the lattice follows the true cell's
                              forward-noised path instead of being sampled, so matching the output
                              measures the positions part alone (docs/training.md "Where the misses are")
  --quiet                     no progress line

Scale-out over a Redis job queue (BullMQ; start workers with \`kldm worker --queue URL\`):
${queueUsage('crystals')}
The merged output equals, line for line, the output of the same command without --queue. Running
the same command again after a crash resumes: finished shards are taken from the queue.
`;


function targetsFromSplit(dataset: string, split: string, oracleStats: LatticeStats | null): SampleTarget[] {
  const s = loadSplit(dataset, split);
  return s.materialIds.map((id, k) => {
    const atomicNumbers = Array.from(s.atomTypes.subarray(s.atomOffsets[k]!, s.atomOffsets[k + 1]!));
    if (!oracleStats) return { materialId: id, atomicNumbers };
    const [a, b, c] = s.lengths.subarray(3 * k, 3 * k + 3);
    const [alpha, beta, gamma] = s.angles.subarray(3 * k, 3 * k + 3);
    const oracleLattice = latticeToFeatures({ a: a!, b: b!, c: c!, alpha: alpha!, beta: beta!, gamma: gamma! }, atomicNumbers.length, oracleStats);
    return { materialId: id, atomicNumbers, oracleLattice };
  });
}

export const sampleCommand: Command = {
  name: 'sample',
  summary: 'sample CSP predictions for a whole split or CSV (resumable JSONL for kldm evaluate csp)',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        checkpoint: { type: 'string' },
        model: { type: 'string' },
        dataset: { type: 'string' },
        split: { type: 'string', default: 'test' },
        'dataset-csv': { type: 'string' },
        'samples-per-material': { type: 'string' },
        limit: { type: 'string' },
        part: { type: 'string' },
        subset: { type: 'string' },
        'subset-seed': { type: 'string' },
        sampler: { type: 'string', default: 'pc' },
        steps: { type: 'string' },
        't-final': { type: 'string' },
        tau: { type: 'string' },
        seed: { type: 'string' },
        'batch-size': { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        queue: { type: 'string' },
        'queue-name': { type: 'string' },
        'shard-size': { type: 'string' },
        precision: { type: 'string', default: 'f32' },
        'oracle-lattice': { type: 'boolean', default: false },
      },
    });
    if (values['oracle-lattice'] && (!values.dataset || values.queue !== undefined)) {
      throw new InputError('--oracle-lattice needs --dataset (the true cells come from the split) and runs without --queue');
    }
    if (values.queue === undefined && (values['queue-name'] !== undefined || values['shard-size'] !== undefined)) {
      throw new InputError('--queue-name and --shard-size need --queue <redis://...>');
    }
    if (values.queue !== undefined && values.part !== undefined) {
      throw new InputError('--part splits a run without a queue; with --queue the workers share the run already');
    }
    if (values.queue !== undefined && values.checkpoint) {
      throw new InputError('--queue needs --model (workers load shipped models by name): export the checkpoint with kldm train export first');
    }
    if (Boolean(values.checkpoint) === Boolean(values.model)) throw new InputError('give exactly one of --checkpoint <file> or --model <name>');
    if (Boolean(values.dataset) === Boolean(values['dataset-csv'])) throw new InputError('give exactly one of --dataset <name> or --dataset-csv <file>');
    if (!values.out) throw new InputError('--out <preds.jsonl> is required');
    const sampler = values.sampler as SamplerMethod;
    if (sampler !== 'pc' && sampler !== 'em') throw new InputError(`--sampler must be pc or em, got "${values.sampler}"`);
    const k = intFlag('--samples-per-material', values['samples-per-material'], 1, 1);
    const steps = intFlag('--steps', values.steps, 1, 1000);
    const seed = intFlag('--seed', values.seed, 0, 42);
    const batchSize = values['batch-size'] === undefined ? undefined : intFlag('--batch-size', values['batch-size'], 1, 256);
    const limit = values.limit === undefined ? undefined : intFlag('--limit', values.limit, 1, 1);
    const part = values.part === undefined ? undefined : parseRunPart(values.part);
    let tFinal = 1e-3;
    if (values['t-final'] !== undefined) {
      tFinal = Number(values['t-final']);
      if (!(tFinal >= 0 && tFinal < 1)) throw new InputError(`--t-final must be in [0, 1), got "${values['t-final']}"`);
    }
    let tau: number | undefined;
    if (values.tau !== undefined) {
      if (sampler !== 'pc') throw new InputError('--tau is the PC corrector\'s step size: it needs --sampler pc');
      tau = Number(values.tau);
      if (!(tau > 0 && Number.isFinite(tau))) throw new InputError(`--tau must be a positive number, got "${values.tau}"`);
    }

    setEnginePrecision(parsePrecision(values.precision!, '--precision'));
    let net: ScoreNetwork;
    let stats: LatticeStats;
    let source: string;
    // a DNG model samples the given compositions with fixed types (CSP-style)
    let typeDiffusion: TypeDiffusionSpec | undefined;
    // the score of the lattice head follows what it was trained to predict (spec §4)
    let latticeParameterisation: VpParameterisation;
    if (values.checkpoint) {
      const { meta, tensors } = readCheckpoint(values.checkpoint);
      const { params, usedEma } = paramsFromTensors(meta.netConfig, tensors, true, values.checkpoint);
      net = new CSPVNet(meta.netConfig, params);
      stats = meta.latticeStats;
      source = `${values.checkpoint} (${usedEma ? 'EMA' : 'raw'} weights, step ${meta.step})`;
      if (meta.config.task === 'dng') typeDiffusion = meta.config.types;
      latticeParameterisation = latticeParameterisationOf(meta.config, values.checkpoint);
    } else {
      const entry = getModel(values.model!);
      net = loadModelNetwork(entry);
      stats = entry.manifest.latticeStats;
      source = `model ${entry.manifest.name}`;
      if (entry.manifest.task === 'dng') typeDiffusion = dngTypeDiffusion(entry.manifest);
      latticeParameterisation = modelLatticeParameterisation(entry.manifest);
    }
    let targets = values.dataset ? targetsFromSplit(getDataset(values.dataset).name, values.split!, values['oracle-lattice'] ? stats : null) : readCsvTargets(values['dataset-csv']!);
    // --limit alone: the whole list is planned and only its first n materials are written, so they get the
    // whole run's batches and noise (planSampleBatches); with --subset the subset is drawn from the first n
    let runLimit: number | undefined;
    if (values.subset !== undefined) {
      if (limit !== undefined) targets = targets.slice(0, limit);
      const n = intFlag('--subset', values.subset, 1, 1);
      targets = randomSubset(targets, n, intFlag('--subset-seed', values['subset-seed'], 0, 0));
    } else if (limit !== undefined && limit < targets.length) {
      runLimit = limit;
    }

    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.on('SIGINT', onSignal);
    if (values.queue !== undefined) {
      try {
        return await sampleOnQueue({
          url: values.queue, queueName: values['queue-name'], shardSize: values['shard-size'], model: values.model!, net, targets, limit: runLimit, out: values.out,
          k, sampler, steps, tFinal, tau, seed, batchSize, quiet: values.quiet, signal: controller.signal,
        });
      } finally {
        process.off('SIGINT', onSignal);
      }
    }
    try {
      if (!values.quiet) process.stderr.write(`kldm sample: ${runLimit ?? targets.length} materials × ${k}${part ? ` (part ${part.index}/${part.count}: batches ${part.index}, ${part.index + part.count}, ${part.index + 2 * part.count}, ... of the run)` : ''} with ${source}, ${sampler.toUpperCase()} ${steps} steps${tau !== undefined ? `, τ ${tau}` : ''}, t_f ${tFinal}, lattice ${values['oracle-lattice'] ? 'ORACLE (the true cells: a diagnostic, not CSP)' : latticeParameterisation}\n`);
      const r = await sampleSplit({ net, stats, targets, outPath: values.out, samplesPerMaterial: k, sampler, steps, tFinal, tau, seed, ...(batchSize !== undefined ? { batchSize } : {}), ...(runLimit !== undefined ? { limit: runLimit } : {}), ...(part ? { part } : {}), ...(typeDiffusion ? { typeDiffusion } : {}), latticeParameterisation, signal: controller.signal, quiet: values.quiet });
      console.log(
        `${values.out}: ${r.alreadyDone + r.written}/${r.total} predictions (${r.alreadyDone} already there, ${r.written} new in ${r.seconds.toFixed(0)} s` +
          `${r.nonFinite ? `, ${r.nonFinite} non-finite written as empty CIF` : ''})${r.aborted ? '; interrupted: run the same command to continue' : ''}`,
      );
      return r.aborted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

async function sampleOnQueue(a: {
  url: string; queueName: string | undefined; shardSize: string | undefined; model: string; net: ScoreNetwork; targets: SampleTarget[]; limit: number | undefined; out: string;
  k: number; sampler: SamplerMethod; steps: number; tFinal: number; tau: number | undefined; seed: number; batchSize: number | undefined; quiet: boolean | undefined; signal: AbortSignal;
}): Promise<number> {
  parseQueueUrl(a.url); // a bad URL is refused before any planning
  const batchSize = a.batchSize ?? defaultSamplingBatchSize(a.targets, a.net.config?.hidden);
  const shardSize = a.shardSize === undefined ? batchSize : intFlag('--shard-size', a.shardSize, 1, batchSize);
  checkSampleTargets(a.targets, getModel(a.model).manifest.latticeStats);
  const params: SampleRunParams = {
    model: a.model, weightsSha256: modelWeightsSha256(a.model), sampler: a.sampler, steps: a.steps, tFinal: a.tFinal, ...(a.tau !== undefined ? { tau: a.tau } : {}), seed: a.seed,
    samplesPerMaterial: a.k, batchSize,
  };
  const shards = planSampleShards(a.targets, params, shardSize, a.limit);
  const written = a.limit === undefined ? a.targets : a.targets.slice(0, a.limit);
  const wanted = new Set<string>();
  for (let s = 0; s < a.k; s++) for (const t of written) wanted.add(`${t.materialId}\u0000${s}`);
  if (existsSync(a.out)) {
    const have = existingPairs(a.out);
    for (const p of have) {
      if (!wanted.has(p)) throw new InputError(`${a.out} holds predictions that are not part of this run (${p.replace('\u0000', ' sample ')}); choose another --out`);
    }
    if (have.size === wanted.size) {
      console.log(`${a.out}: already complete (${have.size} predictions); nothing to do`);
      return 0;
    }
  }
  return runQueuedCommand({
    command: 'sample', url: a.url, queueName: a.queueName, shards, out: a.out, quiet: a.quiet, signal: a.signal, unit: 'predictions',
    itemsOf: (s) => s.batches.reduce((n, b) => n + b.filter((p) => !p.padding).length, 0), what: `${written.length} materials × ${a.k} (shards of <= ${Math.ceil(shardSize / batchSize) * batchSize} crystals)`,
  });
}
