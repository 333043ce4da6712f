/**
 * `kldm generate`: de-novo generation of new crystals with a shipped DNG model (spec §5, §7;
 * docs/dng.md), batched and resumable, to a JSON Lines file (for `kldm evaluate dng`) or a folder.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { formatStructure, STRUCTURE_FORMATS, type StructureFormat } from '../../crystal/io/index.js';
import { trajectoryToExtxyz } from '../../predict/trajectory.js';
import { dngCheckpointInfo, generateStructures, generateWithNetwork, GENERATE_LIMITS, type GenerateOptions } from '../../predict/generate.js';
import { planGenerateShards, type GenerateRequest } from '../../queue/generateShards.js';
import { parseQueueUrl } from '../../queue/url.js';
import { queueUsage, runQueuedCommand } from '../queue.js';
import { parseAtomCountPrior } from '../../sampling/atomCountPrior.js';
import type { SamplerName } from '../../predict/types.js';
import { intOptionOr as intFlag } from '../args.js';

const usage = `Usage: kldm generate (--model <name> | --checkpoint <file>) --n <count> --out <file.jsonl | dir> [options]

Generates new crystals (types, positions and lattice) with a de-novo generation (DNG) model.
Atom counts follow the model's training distribution (spec §5.4) unless --atoms/--atoms-range say
otherwise. Work is done in batches and appended after each one, so re-running the same command
continues an interrupted run.

Options:
  --model <name>          a DNG model (kldm predict --list-models)
  --checkpoint <file>     or a DNG training checkpoint (EMA weights when present; named after its run folder)
  --n <count>             number of structures (default 1)
  --atoms <N>             every structure has N atoms
  --atoms-range <a-b>     atom counts uniform over a..b (inclusive)
  --elements <Li,Fe,P,O>  chemical system: only these elements are generated (enforced in every
                          denoising step, not by rejection)
  --formula <f>           generate this composition (CSP-style fixed types), e.g. LiFePO4
  --z <k>                 formula units per cell with --formula (default 1)
  --sampler <pc|em>       predictor-corrector (default) or Euler-Maruyama (half the cost)
  --steps <k>             reverse-diffusion steps (default 1000)
  --t-final <t>           final time t_f (default 0.001)
  --seed <k>              random seed (default 42); sample i is named <model>-s<seed>-<i>
  --batch-size <k>        crystals per sampler batch (default ~20,480 edges at H = 128)
  --out <path>            file.jsonl: one JSON line per structure {index, id, model, seed,
                          num_atoms, composition, struct_valid, comp_valid, cif} (resumable);
                          a folder: <dir>/generated.jsonl (resumable) plus one file per structure
  --format <f>            files written into a folder: cif (default), poscar, extxyz or json
  --trajectory            also write <dir>/<id>_trajectory.extxyz with the types at each frame
                          ('X' = still masked); needs a folder and at most ${GENERATE_LIMITS.maxInMemory} structures
  --stride <k>            record every k-th step of the trajectory (default steps/100)
  --quiet                 no progress line

Scale-out over a Redis job queue (start workers with \`kldm worker --queue URL\`), with --model and --out file.jsonl:
${queueUsage('structures')}
`;

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate new crystals with a de-novo generation model (resumable JSONL or a folder)',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        checkpoint: { type: 'string' },
        n: { type: 'string' },
        atoms: { type: 'string' },
        'atoms-range': { type: 'string' },
        elements: { type: 'string' },
        formula: { type: 'string' },
        z: { type: 'string' },
        sampler: { type: 'string', default: 'pc' },
        steps: { type: 'string' },
        't-final': { type: 'string' },
        seed: { type: 'string' },
        'batch-size': { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string', default: 'cif' },
        trajectory: { type: 'boolean', default: false },
        stride: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        queue: { type: 'string' },
        'queue-name': { type: 'string' },
        'shard-size': { type: 'string' },
      },
    });
    if (values.queue === undefined && (values['queue-name'] !== undefined || values['shard-size'] !== undefined)) {
      throw new InputError('--queue-name and --shard-size need --queue <redis://...>');
    }
    if (values.queue !== undefined && (!values.model || !values.out?.endsWith('.jsonl'))) {
      throw new InputError('--queue needs --model <name> (workers load shipped models by name) and --out <file.jsonl>');
    }
    if (Boolean(values.model) === Boolean(values.checkpoint)) throw new InputError('give exactly one of --model <name> (a DNG model; kldm predict --list-models) or --checkpoint <file>');
    if (!values.out) throw new InputError('--out <file.jsonl | dir> is required');
    const sampler = values.sampler as SamplerName;
    if (sampler !== 'pc' && sampler !== 'em') throw new InputError(`--sampler must be pc or em, got "${values.sampler}"`);
    const format = values.format as StructureFormat;
    if (!STRUCTURE_FORMATS.includes(format)) throw new InputError(`--format must be one of ${STRUCTURE_FORMATS.join(', ')}, got "${values.format}"`);
    const toFile = values.out.endsWith('.jsonl');
    if (values.trajectory && toFile) throw new InputError('--trajectory needs --out <dir> (one trajectory file per structure)');
    const n = intFlag('--n', values.n, 1, 1);
    const steps = intFlag('--steps', values.steps, 1, 1000);
    const seed = intFlag('--seed', values.seed, 0, 42);
    const prior = parseAtomCountPrior(values.atoms, values['atoms-range']);
    let tFinal = 1e-3;
    if (values['t-final'] !== undefined) {
      tFinal = Number(values['t-final']);
      if (!(tFinal >= 0 && tFinal < 1)) throw new InputError(`--t-final must be in [0, 1), got "${values['t-final']}"`);
    }
    const elements = values.elements === undefined ? undefined : values.elements.split(',').map((e) => e.trim()).filter((e) => e !== '');
    if (elements !== undefined && elements.length === 0) throw new InputError('--elements: give element symbols separated by commas, e.g. Li,Fe,P,O');
    const jsonlPath = toFile ? values.out : join(values.out, 'generated.jsonl');

    const opts: GenerateOptions = {
      n,
      sampler,
      steps,
      seed,
      tFinal,
      ...(prior?.kind === 'fixed' ? { atoms: prior.count } : prior?.kind === 'range' ? { atomsRange: [prior.lo, prior.hi] as [number, number] } : {}),
      ...(elements ? { elements } : {}),
      ...(values.formula !== undefined ? { formula: values.formula, z: intFlag('--z', values.z, 1, 1) } : {}),
      ...(values['batch-size'] !== undefined ? { batchSize: intFlag('--batch-size', values['batch-size'], 1, 1) } : {}),
      ...(values.trajectory ? { trajectory: true, ...(values.stride !== undefined ? { trajectoryStride: intFlag('--stride', values.stride, 1, 1) } : {}) } : { outPath: jsonlPath }),
    };
    if (values.formula === undefined && values.z !== undefined) throw new InputError('--z applies to --formula only');
    if (values.queue !== undefined) {
      const { outPath: _o, ...request } = opts;
      return generateOnQueue({ url: values.queue, queueName: values['queue-name'], shardSize: values['shard-size'], model: values.model!, request, out: values.out, quiet: values.quiet });
    }

    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.on('SIGINT', onSignal);
    const progress = new Progress({ label: 'generating', total: n, unit: 'structures', quiet: values.quiet });
    const ext = format === 'poscar' ? 'vasp' : format;
    let files = 0;
    try {
      const run = { ...opts, signal: controller.signal };
      const fromCheckpoint = values.checkpoint ? dngCheckpointInfo(values.checkpoint) : null;
      const generate = (o: GenerateOptions): ReturnType<typeof generateStructures> =>
        fromCheckpoint ? generateWithNetwork(fromCheckpoint.net, fromCheckpoint.info, o) : generateStructures({ ...o, model: values.model! });
      const result = await generate({
        ...run,
        onProgress: (p) => progress.update(p.done),
        onBatch: (batch) => {
          if (toFile || values.trajectory) return;
          for (const s of batch) {
            writeFileAtomic(join(values.out!, `${s.id}.${ext}`), formatStructure(s.structure, format, s.id));
            files++;
          }
        },
      });
      progress.finish();
      for (const w of result.warnings) process.stderr.write(`kldm generate: warning: ${w}\n`);
      if (values.trajectory) {
        // in-memory run (trajectories): structures, their trajectories and the JSONL record
        let lines = '';
        for (const s of result.samples) {
          writeFileAtomic(join(values.out, `${s.id}.${ext}`), formatStructure(s.structure, format, s.id));
          writeFileAtomic(join(values.out, `${s.id}_trajectory.extxyz`), trajectoryToExtxyz(s.structure.species, s.trajectory ?? [], s.index));
          files += 2;
          lines += JSON.stringify({ index: s.index, id: s.id, model: result.model, seed, num_atoms: s.numAtoms, composition: s.composition, struct_valid: s.structValid, comp_valid: s.compValid, cif: formatStructure(s.structure, 'cif', s.id) }) + '\n';
        }
        writeFileAtomic(jsonlPath, lines);
      }
      const { struct, comp, total } = validityOf(jsonlPath);
      console.log(
        `${values.out}: ${result.alreadyDone + result.written}/${result.total} structures (${result.alreadyDone} already there, ${result.written} new in ${result.seconds.toFixed(0)} s) ` +
          `with ${result.model}, ${result.sampler.toUpperCase()} ${result.steps} steps, seed ${result.seed}, ${result.formula ?? result.atoms}` +
          `${result.elements ? `, elements ${result.elements.join(',')}` : ''}${files ? `; ${files} file(s) written` : ''}` +
          `${result.aborted ? '; interrupted: run the same command to continue' : ''}`,
      );
      if (total > 0) console.log(`structural validity ${((100 * struct) / total).toFixed(1)}%, composition (SMACT) validity ${((100 * comp) / total).toFixed(1)}% of ${total}`);
      return result.aborted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

/** Validity counts over a generation JSONL (for the summary line). */
function validityOf(path: string): { struct: number; comp: number; total: number } {
  if (!existsSync(path)) return { struct: 0, comp: 0, total: 0 };
  let struct = 0;
  let comp = 0;
  let total = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const v = JSON.parse(line) as { struct_valid?: boolean; comp_valid?: boolean; cif?: string };
    total++;
    if (v.struct_valid) struct++;
    if (v.comp_valid) comp++;
  }
  return { struct, comp, total };
}


async function generateOnQueue(a: { url: string; queueName: string | undefined; shardSize: string | undefined; model: string; request: GenerateRequest; out: string; quiet: boolean }): Promise<number> {
  parseQueueUrl(a.url); // a bad URL is refused before any planning
  const shards = await planGenerateShards(a.model, a.request, 1);
  const batchSize = shards[0]?.params.request.batchSize ?? 1;
  const planned = a.shardSize === undefined ? shards : await planGenerateShards(a.model, a.request, intFlag('--shard-size', a.shardSize, 1, batchSize));
  const total = planned[0]?.params.total ?? 0;
  if (existsSync(a.out) && readFileSync(a.out, 'utf8').split('\n').filter((l) => l.trim()).length === total) {
    console.log(`${a.out}: already complete (${total} structures); nothing to do`);
    return 0;
  }
  return runQueuedCommand({ command: 'generate', url: a.url, queueName: a.queueName, shards: planned, out: a.out, quiet: a.quiet, unit: 'structures', itemsOf: (s) => s.structures, what: `${total} structures` });
}
