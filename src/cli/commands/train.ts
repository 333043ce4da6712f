/**
 * `kldm train`: train a CSP model (spec §6, §8) with a named preset or a JSON config, resumable
 * across sittings; `kldm train export` turns a checkpoint into a shipped model under models/;
 * `kldm train --benchmark N` measures seconds per training step of a config.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { parseDuration } from '../../util/progress.js';
import { getDataset } from '../../data/registry.js';
import { latticeStatsOnly, loadLatticeStats, loadSplit } from '../../data/prepare.js';
import { matchStructures } from '../../eval/match.js';
import { checkValidity } from '../../eval/validity.js';
import { parseOverrides, presetNames, resolveConfig, resolveSavedConfig } from '../../training/config.js';
import { checkpointPaths, readCheckpoint, train } from '../../training/trainer.js';
import { benchmarkSteps } from '../../training/benchmark.js';
import type { CspPairScorer } from '../../training/validate.js';
import { exportModel, getModel } from '../../predict/registry.js';
import { editCard, readEvalReport, storedCard, writeModelCard, type CardEvaluation } from '../../predict/modelCard.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { netConfigOfTraining } from '../../training/model.js';
import { TYPE_DIFFUSION_KINDS, isTypeDiffusionKind } from '../../diffusion/typeDiffusion.js';
import { warmStartFromCheckpoint, warmStartFromModel, type WarmStart } from '../../training/warmStart.js';
import type { TrainConfig } from '../../training/config.js';
import { intOption as intFlag } from '../args.js';

const usage = `Usage:
  kldm train --dataset <perov_5|mp_20> --config <preset|file.json> [--task dng --types masking|onehot|bits] [options]
  kldm train --run-dir <dir> --resume [options]
  kldm train export <checkpoint> --name <model> [--description text] [--rank n]
  kldm train card <model> [--eval "label=report.json" ...] [--command "label=cmd" ...] [--drop label ...] [--notes notes.md]
  kldm train --benchmark <steps> --dataset <name> --config <preset|file.json>

Trains a KLDM model (AdamW+AMSGrad, EMA, spec §8): crystal-structure prediction (default) or, with
--task dng, de-novo generation where the atom types are diffused too (spec §5-6, docs/dng.md).
Presets: ${presetNames().join(', ')}  (see docs/training.md for sizes and measured step times).

Options:
  --dataset <name>        training data (train split; validation on the val split)
  --config <c>            preset name or JSON file ({"base": "cpu-small", "optim": {"lr": 5e-4}, ...})
  --set key=value         override one config field (repeatable), e.g. --set optim.lr=5e-4
                          or --set engine.precision=bf16 (bf16 GEMM operands, f32 accumulation, on CPUs
                          with AVX512-BF16; docs/engine.md "Precision"; KLDM_PRECISION overrides it)
                          or --set lattice.parameterisation=eps (lattice head predicts the noise, spec §4
                          "KLDM-ε"; default x0; saved with the run and the exported model)
  --task <csp|dng>        what the model learns (default csp; = --set task=dng)
  --types <kind>          DNG type diffusion: masking (D, default), onehot (C) or bits (C-AB)
                          (= --set types.kind=...; also types.maskSchedule=linear|cosine|poly2,
                          types.simpleLoss=true). DNG validation generates validation.matchSubset
                          crystals and reports their structural and composition validity.
  --run-dir <dir>         run directory (default runs/<dataset>-<config>[-eps]): log.jsonl, last.ckpt, best.ckpt
  --resume                continue the run in --run-dir bit-for-bit from last.ckpt; without --config (and
                          --dataset) the run's saved config is used, --set flags still apply
  --init-from <m>         start a NEW run from earlier weights: a shipped model's name or folder, or a
                          training checkpoint (its EMA); the optimiser starts fresh (not bit-for-bit);
                          combine with --set optim.warmupSteps=N. Epochs/steps/time add up on export.
  --time-budget <d>       stop cleanly with a checkpoint before d (e.g. 90m, 2h) has passed
  --max-steps <n>         stop after n optimiser steps in total
  --seed <n>              seed of a new run (default 42)
  --no-match              validate the loss only (skip EM sampling + matching)
  --quiet                 no status line

Ctrl-C stops after the current step and writes a checkpoint (press twice to abort at once).
Checkpoints are written atomically every checkpoint.everySeconds (default 300 s), so kill -9
loses at most that much work.

export: writes models/<name>/{weights.kldm, model.json} from a checkpoint (EMA weights when
present; a re-export clears the old card's measurements). card: writes models/<name>/MODEL_CARD.md
from model.json and "kldm evaluate csp|dng --json" reports (with the paper's numbers beside); the rows,
their commands and the notes are kept in model.json, so each call adds (--eval), replaces (same
label), drops (--drop) rows or replaces the notes (--notes) and regenerates the rest.
`;

/** KLDM validity (spec §9) then StructureMatcher: the validation match of one sample. */
const kldmScorer: CspPairScorer = (pred, gt) => {
  if (!checkValidity(pred, 'kldm').valid) return { match: false, rms: null };
  const r = matchStructures(pred, gt);
  return { match: r.match, rms: r.rms };
};

async function runExport(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { name: { type: 'string' }, description: { type: 'string', default: '' }, rank: { type: 'string', default: '0' } },
  });
  if (positionals.length !== 1) throw new InputError('kldm train export <checkpoint> --name <model>');
  if (!values.name) throw new InputError('--name is required');
  const rank = Number(values.rank);
  if (!Number.isFinite(rank)) throw new InputError(`--rank must be a number, got "${values.rank}"`);
  const entry = exportModel(positionals[0]!, { name: values.name, description: values.description!, rank });
  console.log(`wrote ${entry.dir} (${entry.manifest.ema ? 'EMA' : 'raw'} weights, ${entry.manifest.training.steps} steps, ${entry.manifest.training.epochs} epochs)`);
  return 0;
}

/** Splits "label=value" at the last "=" (labels may contain spaces and commas). */
function labelled(flag: string, item: string): [string, string] {
  const eq = item.indexOf('=');
  if (eq <= 0) throw new InputError(`${flag} "${item}": expected label=value`);
  return [item.slice(0, eq).trim(), item.slice(eq + 1).trim()];
}

async function runCard(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      eval: { type: 'string', multiple: true, default: [] },
      command: { type: 'string', multiple: true, default: [] },
      drop: { type: 'string', multiple: true, default: [] },
      notes: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new InputError('kldm train card <model> [--eval "label=report.json"] [--command "label=cmd"] [--drop label] [--notes file]');
  const entry = getModel(positionals[0]!);
  const commands = new Map<string, string[]>();
  for (const c of values.command!) {
    const [label, cmd] = labelled('--command', c);
    commands.set(label, [...(commands.get(label) ?? []), cmd]);
  }
  const set: CardEvaluation[] = values.eval!.map((e) => {
    const [label, path] = labelled('--eval', e);
    return { label, report: readEvalReport(path), commands: [] };
  });
  const card = editCard(storedCard(entry), {
    set,
    commands,
    drop: values.drop!,
    ...(values.notes !== undefined ? { notes: readFileSync(values.notes, 'utf8') } : {}),
  });
  console.log(`wrote ${writeModelCard(entry, card.evaluations, card.notes)} (${card.evaluations.length} evaluation rows)`);
  return 0;
}

/** --init-from: a training checkpoint file, a model folder (with model.json) or a shipped model's name. */
function loadWarmStart(from: string, config: TrainConfig, dataset: string): WarmStart {
  const netConfig = netConfigOfTraining(config);
  let ws: WarmStart;
  if (existsSync(from) && statSync(from).isFile()) {
    ws = warmStartFromCheckpoint(from, netConfig);
  } else {
    const entry = existsSync(join(from, 'model.json')) ? getModel(basename(from), dirname(from)) : getModel(from);
    const m = entry.manifest;
    ws = warmStartFromModel(
      { name: m.name, weightsPath: join(entry.dir, m.weights), dataset: m.dataset, netConfig: m.netConfig, ema: m.ema, epochs: m.training.epochs, steps: m.training.steps, wallClockHours: m.training.wallClockHours, ...(m.training.cpu ? { cpu: m.training.cpu } : {}) },
      netConfig,
    );
  }
  if (ws.record.dataset !== dataset) {
    process.stderr.write(`kldm train: note: --init-from weights were trained on ${ws.record.dataset}; this run trains on ${dataset} (fine-tuning)\n`);
  }
  if (config.optim.warmupSteps === 0) {
    process.stderr.write('kldm train: note: --init-from without optim.warmupSteps: the fresh optimiser takes full-size first steps\n');
  }
  return ws;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a CSP or DNG (--task dng) model (presets paper, cpu-small, cpu-medium), resumable; export it as a shipped model',
  usage,
  async run(argv) {
    if (argv[0] === 'export') return runExport(argv.slice(1));
    if (argv[0] === 'card') return runCard(argv.slice(1));
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        dataset: { type: 'string' },
        config: { type: 'string' },
        set: { type: 'string', multiple: true, default: [] },
        task: { type: 'string' },
        types: { type: 'string' },
        'run-dir': { type: 'string' },
        resume: { type: 'boolean', default: false },
        'init-from': { type: 'string' },
        'time-budget': { type: 'string' },
        'max-steps': { type: 'string' },
        seed: { type: 'string' },
        'no-match': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        benchmark: { type: 'string' },
      },
    });
    const overrides = parseOverrides(values.set!);
    if (values.task !== undefined) {
      if (values.task !== 'csp' && values.task !== 'dng') throw new InputError(`--task must be csp or dng, got "${values.task}"`);
      overrides['task'] = values.task;
    }
    if (values.types !== undefined) {
      if (!isTypeDiffusionKind(values.types)) throw new InputError(`--types must be one of ${TYPE_DIFFUSION_KINDS.join(', ')}, got "${values.types}"`);
      const t = (overrides['types'] ??= {}) as Record<string, unknown>;
      t['kind'] = values.types;
      if (values.task === undefined) overrides['task'] = 'dng';
    }
    let dataset: string;
    let config: TrainConfig;
    let runDir: string;
    if (values.resume && values.config === undefined) {
      // a resumed run without --config continues with the config it was saved with (+ --set overrides)
      if (values['run-dir'] === undefined) throw new InputError('--resume without --config needs --run-dir (the run to continue)');
      runDir = values['run-dir'];
      const last = checkpointPaths(runDir).last;
      if (!existsSync(last)) throw new InputError(`--resume: no checkpoint at ${last}`);
      const { meta } = readCheckpoint(last);
      dataset = values.dataset !== undefined ? getDataset(values.dataset).name : meta.dataset;
      config = resolveSavedConfig(meta.config, overrides);
    } else {
      if (!values.dataset) throw new InputError('--dataset is required (perov_5 or mp_20)');
      if (!values.config) throw new InputError(`--config is required (${presetNames().join(', ')} or a .json file; optional with --resume)`);
      dataset = getDataset(values.dataset).name;
      config = resolveConfig(values.config, overrides);
      const configTag =
        values.config.replace(/\.json$/, '').replace(/[^A-Za-z0-9._-]+/g, '_') + (config.task === 'dng' ? `-dng-${config.types.kind}` : '') +
        (config.lattice.parameterisation === 'eps' ? '-eps' : ''); // an eps run does not collide with the x0 run's default directory
      runDir = values['run-dir'] ?? join('runs', `${dataset}-${configTag}`);
    }

    const benchSteps = intFlag('--benchmark', values.benchmark, 1);
    if (benchSteps !== undefined) {
      const r = benchmarkSteps(config, dataset, benchSteps);
      console.log(
        `${r.config} on ${r.dataset}-shaped batches of ${r.batchSize} (${r.numParams.toLocaleString('en-US')} parameters, ${r.kernels} engine): ` +
          `${r.medianStepSeconds.toFixed(3)} s/training step, ${r.medianForwardSeconds.toFixed(3)} s/forward (median of ${r.steps})`,
      );
      return 0;
    }

    let timeBudgetSeconds: number | undefined;
    if (values['time-budget'] !== undefined) {
      try {
        timeBudgetSeconds = parseDuration(values['time-budget']);
      } catch (err) {
        throw new InputError(`--time-budget: ${(err as Error).message}`);
      }
    }
    const maxSteps = intFlag('--max-steps', values['max-steps'], 0);
    const seed = intFlag('--seed', values.seed, 0);
    if (values.resume && seed !== undefined) throw new InputError('--seed applies to new runs only (a resumed run keeps its seed)');
    if (values.resume && values['init-from'] !== undefined) throw new InputError('--init-from starts a new run; drop --resume (a resumed run already has its weights)');
    const warmStart = values['init-from'] !== undefined ? loadWarmStart(values['init-from'], config, dataset) : undefined;

    const trainSplit = loadSplit(dataset, 'train');
    const stats = latticeStatsOnly(loadLatticeStats(dataset));
    const hasVal = getDataset(dataset).splits.some((s) => s.split === 'val');
    const val = hasVal && config.validation.everyEpochs > 0 ? loadSplit(dataset, 'val') : undefined;
    if (!val && config.validation.everyEpochs > 0) process.stderr.write(`kldm train: ${dataset} has no val split here; training without validation\n`);

    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = (): void => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\nkldm train: stopping after this step (checkpoint follows); press Ctrl-C again to abort now\n');
        controller.abort();
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const summary = await train({
        dataset,
        config,
        runDir,
        resume: values.resume,
        ...(warmStart ? { warmStart } : {}),
        train: trainSplit,
        stats,
        signal: controller.signal,
        statusStream: values.quiet ? null : process.stderr,
        ...(val ? { val } : {}),
        ...(values['no-match'] ? {} : { scorer: kldmScorer }),
        ...(seed !== undefined ? { seed } : {}),
        ...(timeBudgetSeconds !== undefined ? { timeBudgetSeconds } : {}),
        ...(maxSteps !== undefined ? { maxSteps } : {}),
      });
      const best = summary.best;
      console.log(
        `run ${runDir}: stopped (${summary.stopReason === 'aborted' ? 'interrupted by a signal; continue with --resume' : summary.stopReason}) at step ${summary.step}` +
          (Number.isFinite(summary.meanStepSeconds) ? `, ${summary.meanStepSeconds.toFixed(3)} s/step this sitting` : '') +
          `; ` +
          `checkpoint ${summary.lastCheckpoint}` +
          (best ? `; best ${summary.bestCheckpoint} (epoch ${best.epoch}, val loss ${best.loss.toFixed(4)}${best.matchRate !== null ? `, match ${(100 * best.matchRate).toFixed(1)}%` : ''})` : ''),
      );
      return summary.stopReason === 'aborted' ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
