/**
 * Registry of shipped models: models/<name>/ holds model.json (network config, lattice
 * statistics, the element and atom-count range seen in training, metrics), weights.kldm (the
 * inference weights, EMA when the run had one, as a tensor file) and MODEL_CARD.md.
 *
 * The models folder is the repository's `models/` (found relative to this module, so it works
 * from src/ under tsx and from dist/), or $KLDM_MODELS_DIR when set (tests, private models).
 */
import { getKernels } from '../engine/select.js';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LatticeStats } from '../data/types.js';
import type { CSPVNetConfig } from '../network/config.js';
import { CSPVNet } from '../network/cspvnet.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError, KldmError } from '../util/errors.js';
import { elementSymbol } from '../crystal/elements.js';
import { latticeParameterisationOf, type TrainConfig } from '../training/config.js';
import type { VpParameterisation } from '../diffusion/latticeVp.js';
import type { TypeDiffusionSpec } from '../diffusion/typeDiffusion.js';
import { paramsFromTensors } from '../training/model.js';
import { loadTensors, saveTensors } from '../training/tensorFile.js';
import { readCheckpoint, type TrainingRange } from '../training/trainer.js';
import { cpuOf, type WarmStartRecord } from '../training/warmStart.js';
import { curvesSvg, readRunCurves } from '../training/plot.js';

export const MODEL_KIND = 'kldm-model';
export const WEIGHTS_FILE = 'weights.kldm';
/** training curves of the run the model was exported from (when its log.jsonl was beside the checkpoint) */
export const CURVES_FILE = 'curves.svg';

/** models/<name>/model.json */
export interface ModelManifest {
  kind: typeof MODEL_KIND;
  name: string;
  /** benchmark dataset the model was trained on */
  dataset: string;
  /** 'csp': types given; 'dng': de-novo generation, types diffused too (spec §5, docs/dng.md) */
  task: 'csp' | 'dng';
  /** DNG models: their type diffusion (spec §5) */
  typeDiffusion?: TypeDiffusionSpec;
  /**
   * What the lattice head predicts (spec §4): 'x0' ("KLDM-x0") or 'eps' ("KLDM-ε"); every sampler
   * of the model uses the matching score. Absent in manifests written before it existed: x0.
   */
  latticeParameterisation?: VpParameterisation;
  description: string;
  /** preference among models covering a composition (higher wins) */
  rank: number;
  netConfig: CSPVNetConfig;
  trainConfig: TrainConfig | null;
  latticeStats: LatticeStats;
  trainingRange: TrainingRange;
  /** whether weights.kldm holds EMA weights */
  ema: boolean;
  /**
   * Totals over all the training behind the weights: a warm-started run (`warmStart`) adds its own
   * epochs, steps and hours to those of the weights it started from.
   */
  training: {
    epochs: number;
    steps: number;
    wallClockHours: number;
    cpuCores: number;
    /**
     * Process CPU time measured by the trainer (all threads) and the number of the steps above it covers
     * (older runs measured only their later sittings); absent for models trained before it was recorded.
     */
    cpu?: { hours: number; steps: number };
    seed: number;
    finalValidation: unknown;
    finalTrainLoss: unknown;
    warmStart?: WarmStartRecord & { runEpochs: number; runSteps: number; runHours: number };
  };
  /** measured metrics (free-form; see MODEL_CARD.md) */
  metrics: Record<string, unknown>;
  /**
   * What MODEL_CARD.md is generated from besides the fields above (rows with their reproduce
   * commands, notes), so `kldm train card` can add, replace or drop one row and regenerate the rest.
   * Absent in older manifests and after a re-export (new weights invalidate the old measurements).
   */
  card?: { evaluations: { label: string; commands: string[]; report: unknown }[]; notes: string };
  weights: string;
}

export interface ModelEntry {
  manifest: ModelManifest;
  dir: string;
}

export function modelsRoot(): string {
  const env = process.env['KLDM_MODELS_DIR'];
  if (env) return resolve(env);
  // this file is src/predict/registry.ts or dist/predict/registry.js: the repo root is two levels up
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
}

function readManifest(dir: string): ModelManifest {
  const path = join(dir, 'model.json');
  let m: ModelManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
  } catch (err) {
    throw new KldmError(`${path}: unreadable model manifest (${(err as Error).message})`);
  }
  if (m.kind !== MODEL_KIND || typeof m.name !== 'string' || !m.netConfig || !m.latticeStats || !m.trainingRange) {
    throw new KldmError(`${path}: not a kldm model manifest`);
  }
  return m;
}

/** Every model under the models folder (folders with a model.json), by descending rank then name. */
export function listModels(root = modelsRoot()): ModelEntry[] {
  if (!existsSync(root)) return [];
  const out: ModelEntry[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    if (existsSync(join(dir, 'model.json'))) out.push({ manifest: readManifest(dir), dir });
  }
  return out.sort((a, b) => b.manifest.rank - a.manifest.rank || a.manifest.name.localeCompare(b.manifest.name));
}

export function getModel(name: string, root = modelsRoot()): ModelEntry {
  const models = listModels(root);
  const m = models.find((e) => e.manifest.name === name);
  if (!m) {
    const known = models.map((e) => e.manifest.name).join(', ') || 'none installed';
    throw new InputError(`unknown model "${name}" (shipped models: ${known})`);
  }
  return m;
}

/** The type diffusion of a DNG model (error naming the model for a CSP one). */
export function dngTypeDiffusion(m: ModelManifest): TypeDiffusionSpec {
  if (m.task !== 'dng') throw new InputError(`model ${m.name} is a crystal-structure-prediction model (task ${m.task}); de-novo generation needs a DNG model (kldm predict --list-models)`);
  const spec = m.typeDiffusion ?? (m.trainConfig?.task === 'dng' ? m.trainConfig.types : undefined);
  if (!spec) throw new KldmError(`model ${m.name}: model.json has no typeDiffusion`);
  return spec;
}

/**
 * The lattice parameterisation a model's sampler must use (spec §4): the manifest's field, else its
 * training config's, else x0 (models exported before kldm had the eps variant).
 */
export function modelLatticeParameterisation(m: ModelManifest): VpParameterisation {
  const source = `model ${m.name} (model.json)`;
  if (m.latticeParameterisation !== undefined) return latticeParameterisationOf({ lattice: { parameterisation: m.latticeParameterisation } }, source);
  return latticeParameterisationOf(m.trainConfig, source);
}

/** Whether the model's lattice statistics can decode cells of `numAtoms` atoms (spec §13.13). */
export function coversAtomCount(m: ModelManifest, numAtoms: number): boolean {
  return m.latticeStats.byAtomCount[numAtoms] !== undefined;
}

/** Warnings for a composition outside what the model saw in training (elements, size). */
export function rangeWarnings(m: ModelManifest, atomicNumbers: readonly number[]): string[] {
  const warnings: string[] = [];
  const known = new Set(m.trainingRange.elements);
  const unseen = [...new Set(atomicNumbers)].filter((z) => !known.has(z));
  if (unseen.length > 0) {
    warnings.push(
      `model ${m.name} never saw ${unseen.map((z) => elementSymbol(z)).join(', ')} in training (${m.dataset}); ` +
        'their embeddings are untrained, so predictions involving them are unreliable',
    );
  }
  const n = atomicNumbers.length;
  if (n < m.trainingRange.minAtoms || n > m.trainingRange.maxAtoms) {
    warnings.push(`model ${m.name} was trained on cells of ${m.trainingRange.minAtoms}-${m.trainingRange.maxAtoms} atoms, this cell has ${n}`);
  }
  return warnings;
}

/**
 * The model to use for a cell: the named one (error if it cannot decode the size), or the
 * highest-ranked shipped model whose lattice statistics cover the cell's atom count, preferring
 * one that saw all the elements.
 */
export function chooseModel(atomicNumbers: readonly number[], name?: string, root = modelsRoot()): { entry: ModelEntry; warnings: string[] } {
  const n = atomicNumbers.length;
  if (name !== undefined) {
    const entry = getModel(name, root);
    if (!coversAtomCount(entry.manifest, n)) {
      const sizes = Object.keys(entry.manifest.latticeStats.byAtomCount).join(', ');
      throw new InputError(`model ${name} cannot generate cells of ${n} atoms (it knows N = ${sizes}); change --z or pick another --model`);
    }
    return { entry, warnings: rangeWarnings(entry.manifest, atomicNumbers) };
  }
  // without a name, only CSP models are candidates (a DNG model predicts a formula only when named)
  const models = listModels(root).filter((e) => e.manifest.task !== 'dng');
  if (models.length === 0) throw new KldmError(`no models installed in ${root}`);
  const covering = models.filter((e) => coversAtomCount(e.manifest, n));
  if (covering.length === 0) {
    const sizes = models.map((e) => `${e.manifest.name}: ${e.manifest.trainingRange.minAtoms}-${e.manifest.trainingRange.maxAtoms}`).join('; ');
    throw new InputError(`no shipped model generates cells of ${n} atoms (${sizes} atoms); change --z`);
  }
  const clean = covering.find((e) => rangeWarnings(e.manifest, atomicNumbers).length === 0);
  const entry = clean ?? covering[0]!;
  return { entry, warnings: rangeWarnings(entry.manifest, atomicNumbers) };
}

const networkCache = new Map<string, CSPVNet>();

/** The model's network on the engine of the requested precision (loaded once per process and engine). */
export function loadModelNetwork(entry: ModelEntry): CSPVNet {
  const path = join(entry.dir, entry.manifest.weights);
  const kernels = getKernels();
  const key = `${path}\u0000${kernels.name}`;
  const cached = networkCache.get(key);
  if (cached) return cached;
  const { tensors } = loadTensors(path);
  const { params } = paramsFromTensors(entry.manifest.netConfig, tensors, false, path);
  const net = new CSPVNet(entry.manifest.netConfig, params, kernels);
  networkCache.set(key, net);
  return net;
}

export interface ExportModelOptions {
  name: string;
  description: string;
  rank?: number;
  metrics?: Record<string, unknown>;
  root?: string;
}

/**
 * Writes models/<name>/{weights.kldm, model.json} from a training checkpoint (EMA weights when
 * present, spec §7.4 "EMA weights" for testing), and curves.svg from the run's log.jsonl beside the
 * checkpoint (up to the checkpoint's step) when there is one. MODEL_CARD.md: `kldm train card`.
 */
export function exportModel(checkpointPath: string, opts: ExportModelOptions): ModelEntry {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(opts.name)) throw new InputError(`model name "${opts.name}": use letters, digits, . _ -`);
  const { meta, tensors } = readCheckpoint(checkpointPath);
  const { params, usedEma } = paramsFromTensors(meta.netConfig, tensors, true, checkpointPath);
  const init = meta.initFrom ?? null;
  const dir = join(opts.root ?? modelsRoot(), opts.name);
  mkdirSync(dir, { recursive: true });
  saveTensors(join(dir, WEIGHTS_FILE), params.tensors.map((t) => ({ name: `param/${t.name}`, shape: t.shape, data: t.data })), { kind: MODEL_KIND, name: opts.name });
  const manifest: ModelManifest = {
    kind: MODEL_KIND,
    name: opts.name,
    dataset: meta.dataset,
    task: meta.config.task === 'dng' ? 'dng' : 'csp',
    ...(meta.config.task === 'dng' ? { typeDiffusion: meta.config.types } : {}),
    latticeParameterisation: latticeParameterisationOf(meta.config, checkpointPath),
    description: opts.description,
    rank: opts.rank ?? 0,
    netConfig: meta.netConfig,
    trainConfig: meta.config,
    latticeStats: meta.latticeStats,
    trainingRange: meta.trainingRange,
    ema: usedEma,
    training: {
      epochs: meta.epochsCompleted + (init?.epochs ?? 0),
      steps: meta.step + (init?.steps ?? 0),
      wallClockHours: (meta.trainSeconds + (init?.trainSeconds ?? 0)) / 3600,
      cpuCores: meta.cpuCores,
      ...measuredCpu(meta.cpu ? { seconds: meta.cpu.seconds, steps: meta.step - meta.cpu.fromStep } : undefined, init?.cpu),
      seed: meta.seed,
      finalValidation: meta.lastValidation,
      finalTrainLoss: meta.lastEpochLoss ?? null,
      ...(init ? { warmStart: { ...init, source: publishedSource(init.source), runEpochs: meta.epochsCompleted, runSteps: meta.step, runHours: meta.trainSeconds / 3600 } } : {}),
    },
    metrics: opts.metrics ?? {},
    weights: WEIGHTS_FILE,
  };
  writeFileAtomic(join(dir, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
  const log = join(dirname(checkpointPath), 'log.jsonl');
  if (existsSync(log)) writeFileAtomic(join(dir, CURVES_FILE), curvesSvg(readRunCurves(log, meta.step)));
  return { manifest, dir };
}

/**
 * The warm start's source as a shipped manifest names it: a model stays "model <name>"; a training checkpoint
 * becomes "training checkpoint <file name>", because its absolute path names a directory on the machine that
 * trained it, meaningless to whoever installs the model (the run's own log.jsonl keeps the full path).
 */
function publishedSource(source: string): string {
  return source.startsWith('model ') ? source : `training checkpoint ${basename(source)}`;
}

/** model.json training.cpu from the run's measured CPU time and its warm start's, when either was measured. */
function measuredCpu(run?: { seconds: number; steps: number }, init?: { seconds: number; steps: number }): { cpu?: { hours: number; steps: number } } {
  const { cpu } = cpuOf(run, init);
  return cpu ? { cpu: { hours: cpu.seconds / 3600, steps: cpu.steps } } : {};
}
