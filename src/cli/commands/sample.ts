/**
 * `kldm sample`: batched CSP sampling over a whole dataset split (or a CSV of compositions) with a
 * training checkpoint or a shipped model, writing the evaluator's JSON Lines; resumable.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { getDataset } from '../../data/registry.js';
import { loadSplit } from '../../data/prepare.js';
import { column, parseCsv } from '../../data/csv.js';
import { readCif } from '../../crystal/io/cif.js';
import { atomicNumber } from '../../crystal/elements.js';
import { CSPVNet } from '../../network/cspvnet.js';
import { parsePrecision } from '../../engine/precision.js';
import { setEnginePrecision } from '../../engine/select.js';
import type { ScoreNetwork } from '../../network/types.js';
import type { LatticeStats } from '../../data/types.js';
import { paramsFromTensors } from '../../training/model.js';
import { readCheckpoint } from '../../training/trainer.js';
import { getModel, loadModelNetwork } from '../../predict/registry.js';
import { randomSubset, sampleSplit, type SampleTarget } from '../../predict/sampleSplit.js';
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
  --limit <n>                 only the first n materials
  --subset <n>                a fixed random subset of n materials (kept in split order; see --subset-seed)
  --subset-seed <s>           seed of the subset (default 0): the first n of Rng(s).permutation(materials)
  --sampler <pc|em>           default pc (spec §7.4 test setting)
  --steps <n>                 default 1000
  --t-final <t>               final time t_f (default 0.001; the reference's test command uses 0)
  --seed <n>                  default 42
  --batch-size <n>            crystals per sampler batch (default: ~20,480 edges at H=128: 1024 for Perov-5, ~160 for MP-20)
  --precision <f32|bf16>     engine precision (default f32; bf16: bf16 GEMM operands, f32 accumulation, where
                              the CPU has native bf16; KLDM_PRECISION overrides it; docs/engine.md)
  --quiet                     no progress line
`;

function targetsFromCsv(path: string): SampleTarget[] {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const text = path.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  const table = parseCsv(text, path);
  const ids = column(table, 'material_id', path);
  const cifs = column(table, 'cif', path);
  const out: SampleTarget[] = [];
  for (let i = 0; i < ids.length; i++) {
    const where = `${path} row ${i + 1} (material_id ${ids[i]})`;
    if (!ids[i]!.trim()) throw new InputError(`${path} row ${i + 1}: empty material_id`);
    let species: string[];
    try {
      species = readCif(cifs[i]!).species;
    } catch (err) {
      throw new InputError(`${where}: ${(err as Error).message}`);
    }
    out.push({ materialId: ids[i]!, atomicNumbers: species.map((s) => atomicNumber(s, where)) });
  }
  return out;
}

function targetsFromSplit(dataset: string, split: string): SampleTarget[] {
  const s = loadSplit(dataset, split);
  return s.materialIds.map((id, k) => ({ materialId: id, atomicNumbers: Array.from(s.atomTypes.subarray(s.atomOffsets[k]!, s.atomOffsets[k + 1]!)) }));
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
        subset: { type: 'string' },
        'subset-seed': { type: 'string' },
        sampler: { type: 'string', default: 'pc' },
        steps: { type: 'string' },
        't-final': { type: 'string' },
        seed: { type: 'string' },
        'batch-size': { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        precision: { type: 'string', default: 'f32' },
      },
    });
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
    let tFinal = 1e-3;
    if (values['t-final'] !== undefined) {
      tFinal = Number(values['t-final']);
      if (!(tFinal >= 0 && tFinal < 1)) throw new InputError(`--t-final must be in [0, 1), got "${values['t-final']}"`);
    }

    setEnginePrecision(parsePrecision(values.precision!, '--precision'));
    let net: ScoreNetwork;
    let stats: LatticeStats;
    let source: string;
    if (values.checkpoint) {
      const { meta, tensors } = readCheckpoint(values.checkpoint);
      const { params, usedEma } = paramsFromTensors(meta.netConfig, tensors, true, values.checkpoint);
      net = new CSPVNet(meta.netConfig, params);
      stats = meta.latticeStats;
      source = `${values.checkpoint} (${usedEma ? 'EMA' : 'raw'} weights, step ${meta.step})`;
    } else {
      const entry = getModel(values.model!);
      net = loadModelNetwork(entry);
      stats = entry.manifest.latticeStats;
      source = `model ${entry.manifest.name}`;
    }
    let targets = values.dataset ? targetsFromSplit(getDataset(values.dataset).name, values.split!) : targetsFromCsv(values['dataset-csv']!);
    if (limit !== undefined) targets = targets.slice(0, limit);
    if (values.subset !== undefined) {
      const n = intFlag('--subset', values.subset, 1, 1);
      targets = randomSubset(targets, n, intFlag('--subset-seed', values['subset-seed'], 0, 0));
    }

    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.on('SIGINT', onSignal);
    try {
      if (!values.quiet) process.stderr.write(`kldm sample: ${targets.length} materials × ${k} with ${source}, ${sampler.toUpperCase()} ${steps} steps, t_f ${tFinal}\n`);
      const r = await sampleSplit({ net, stats, targets, outPath: values.out, samplesPerMaterial: k, sampler, steps, tFinal, seed, ...(batchSize !== undefined ? { batchSize } : {}), signal: controller.signal, quiet: values.quiet });
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
