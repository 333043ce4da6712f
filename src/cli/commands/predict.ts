/**
 * `kldm predict "<formula>"`: sample crystal structures for a composition with a shipped model,
 * print a short table and write the structures (and optionally the denoising trajectories).
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { formatStructure, STRUCTURE_FORMATS, type StructureFormat } from '../../crystal/io/index.js';
import { trajectoryToExtxyz } from '../../predict/trajectory.js';
import { toParameters } from '../../crystal/lattice.js';
import { listModels, modelLatticeParameterisation } from '../../predict/registry.js';
import { predictStructures } from '../../predict/predict.js';
import type { PredictedStructure, SamplerName } from '../../predict/types.js';
import { intOptionOr as intFlag } from '../args.js';
import { parsePrecision } from '../../engine/precision.js';
import { setEnginePrecision } from '../../engine/select.js';

const usage = `Usage: kldm predict "<formula>" [options]
       kldm predict --list-models

Predicts crystal structures for a composition (crystal structure prediction) with a shipped
KLDM model, offline. The cell holds z formula units of the formula as written
(e.g. "SrTiO3", "Li3Co3O6", "Ca(OH)2", "Fe2O3x2").

Options:
  --n <k>              number of samples (default 1)
  --z <k>              formula units per cell (default 1)
  --sampler <s>        pc (predictor-corrector, default) or em (Euler-Maruyama, half the cost)
  --steps <k>          reverse-diffusion steps (default 1000)
  --seed <k>           random seed (default 1)
  --model <name>       shipped model (default: the best one covering the cell size)
  --out <dir>          write the structures to <dir>/<formula>_<i>.<ext>
  --format <f>         cif (default), poscar, extxyz or json
  --trajectory         also write <dir>/<formula>_<i>_trajectory.extxyz (denoising frames)
  --stride <k>         record every k-th step of the trajectory (default steps/100)
  --precision <p>      engine precision f32 (default) or bf16 (where the CPU has native bf16; docs/engine.md)
  --quiet              no progress line
`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ')).join('\n');
}

function listModelsText(): string {
  const models = listModels();
  if (models.length === 0) return 'no models installed';
  return models
    .map((m) => `${m.manifest.name}  (${m.manifest.task === 'dng' ? `de-novo generation, ${m.manifest.typeDiffusion?.kind ?? '?'} types; ` : ''}${modelLatticeParameterisation(m.manifest) === 'eps' ? 'eps lattice (KLDM-ε); ' : ''}${m.manifest.dataset}, cells of ${m.manifest.trainingRange.minAtoms}-${m.manifest.trainingRange.maxAtoms} atoms, ${m.manifest.trainingRange.elements.length} elements) ${m.manifest.description}`)
    .join('\n');
}

function row(i: number, formula: string, s: PredictedStructure): string[] {
  const p = toParameters(s.structure.lattice);
  const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : 'nan');
  return [String(i), formula, f(p.a), f(p.b), f(p.c), f(p.alpha, 1), f(p.beta, 1), f(p.gamma, 1), f(s.volume, 2), f(s.minDistance), s.valid ? 'yes' : 'no'];
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'predict crystal structures for a formula with a shipped model (offline)',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        n: { type: 'string' },
        z: { type: 'string' },
        sampler: { type: 'string', default: 'pc' },
        steps: { type: 'string' },
        seed: { type: 'string' },
        model: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string', default: 'cif' },
        trajectory: { type: 'boolean', default: false },
        stride: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        precision: { type: 'string', default: 'f32' },
        'list-models': { type: 'boolean', default: false },
      },
    });
    if (values['list-models']) {
      console.log(listModelsText());
      return 0;
    }
    if (positionals.length !== 1) throw new InputError(positionals.length === 0 ? 'a formula is required, e.g. kldm predict "SrTiO3"' : `expected one formula, got ${positionals.length} arguments (quote formulas with spaces)`);
    const formula = positionals[0]!;
    const sampler = values.sampler as SamplerName;
    if (sampler !== 'pc' && sampler !== 'em') throw new InputError(`--sampler must be pc or em, got "${values.sampler}"`);
    const format = values.format as StructureFormat;
    if (!STRUCTURE_FORMATS.includes(format)) throw new InputError(`--format must be one of ${STRUCTURE_FORMATS.join(', ')}, got "${values.format}"`);
    if (values.trajectory && !values.out) throw new InputError('--trajectory needs --out <dir> to write the frames');
    const n = intFlag('--n', values.n, 1, 1);
    const z = intFlag('--z', values.z, 1, 1);
    const steps = intFlag('--steps', values.steps, 1, 1000);
    const seed = intFlag('--seed', values.seed, 0, 1);
    const stride = values.stride === undefined ? undefined : intFlag('--stride', values.stride, 1, 1);
    setEnginePrecision(parsePrecision(values.precision!, '--precision'));

    const progress = new Progress({ label: `sampling ${formula}`, total: steps, unit: 'steps', quiet: values.quiet });
    const t0 = Date.now();
    const result = await predictStructures(formula, {
      n, z, sampler, steps, seed, trajectory: values.trajectory,
      ...(values.model ? { model: values.model } : {}),
      ...(stride !== undefined ? { trajectoryStride: stride } : {}),
      onProgress: (p) => progress.update(p.step),
    });
    progress.finish();
    for (const w of result.warnings) process.stderr.write(`kldm predict: warning: ${w}\n`);
    const rows = [['#', 'formula', 'a', 'b', 'c', 'alpha', 'beta', 'gamma', 'volume', 'min dist', 'valid']];
    result.samples.forEach((s, i) => rows.push(row(i, result.formula, s)));
    console.log(`${result.formula}: ${n} sample(s), model ${result.model}, ${result.sampler.toUpperCase()} ${result.steps} steps, seed ${result.seed}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(table(rows));
    console.log('(lengths in Å, angles in degrees, volume in Å^3; valid = KLDM structural validity, spec §9)');
    if (values.out) {
      const ext = format === 'poscar' ? 'vasp' : format;
      const written: string[] = [];
      result.samples.forEach((s, i) => {
        const name = `${result.formula}_${i}`;
        const path = join(values.out!, `${name}.${ext}`);
        writeFileAtomic(path, formatStructure(s.structure, format, name));
        written.push(path);
        if (values.trajectory && s.trajectory) {
          const text = trajectoryToExtxyz(s.structure.species, s.trajectory, i);
          const tpath = join(values.out!, `${name}_trajectory.extxyz`);
          writeFileAtomic(tpath, text);
          written.push(tpath);
        }
      });
      console.log(`wrote ${written.length} file(s) to ${values.out}`);
    }
    return 0;
  },
};
