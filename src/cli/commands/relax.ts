/**
 * `kldm relax`: relax crystals with the M3GNet universal potential (issue #15): FIRE on positions
 * and cell (exponential cell filter), batched, offline, with the potential installed from the asset
 * store. Input: structure files (CIF/POSCAR/JSON) or a JSON Lines file of structures
 * (`kldm sample` output); output in the same kinds.
 */
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { formatStructure, readStructureFile, STRUCTURE_FORMATS, type StructureFormat } from '../../crystal/io/index.js';
import { writeExtxyz } from '../../crystal/io/xyz.js';
import { volume } from '../../crystal/lattice.js';
import { M3GNET_ASSET, m3gnetPotential } from '../../potential/shipped.js';
import { relaxStructures, type RelaxOptions, type RelaxResult } from '../../relax/relax.js';
import { StabilityScorer } from '../../thermo/stability.js';
import { readStructureJsonl, relaxJsonl, type RelaxInputRecord } from '../../relax/jsonl.js';
import { planRelaxShards, potentialWeightsSha256, toShardRecord, type RelaxRunParams } from '../../queue/relaxShards.js';
import { parseQueueUrl } from '../../queue/url.js';
import { queueUsage, runQueuedCommand } from '../queue.js';

const usage = `Usage: kldm relax <structure files...> [--out DIR] [options]
       kldm relax --jsonl <structures.jsonl> --out <relaxed.jsonl> [options]

Relaxes positions and cell with the M3GNet-MP-2021.2.8 universal potential (install it once with
kldm assets fetch m3gnet-mp-2021.2.8) and FIRE with the exponential cell filter, as ASE's
FIRE + ExpCellFilter. Prints per structure: converged, steps, energy per atom before and after,
largest remaining force, volume change.

Input and output:
  <files...>               CIF, POSCAR (*.vasp, POSCAR*) or JSON structure files
  --out <dir>              with files: write <name>_relaxed.<format> there (default: print the table only)
  --format <f>             cif (default) | poscar | json | extxyz
  --jsonl <file>           JSON Lines with "cif" and an "id" or "material_id" (+ "sample"): kldm sample output
  --out <file.jsonl>       with --jsonl: one result line per structure (energies, stress in GPa, relaxed cif);
                           resumable: ids already in the file are skipped
  --trajectory             with files: also <name>_relax.extxyz, every optimiser step (energy per frame)
  --json <file>            with files: the summary as JSON
  --hull                   also the formation energy (M3GNet + MP2020 corrections, elemental references from
                           M3GNet on MP-20's elemental phases) and the energy above the MP-20 DFT hull, eV/atom;
                           needs the mp_20 dataset (kldm data fetch mp_20); the first use computes the
                           elemental references (about a minute, then cached)

Relaxation:
  --fmax <eV/Å>            force criterion on atoms and cell rows (default 0.05)
  --max-steps <n>          optimiser steps at most (default 500)
  --fix-cell               relax positions only
  --cell-force ase|exact   cell force of the filter (default ase: as ASE 3.22 ExpCellFilter)
  --batch-size <n>         structures relaxed together (default 64)
  --quiet                  no progress line

Scale-out of --jsonl runs over a Redis job queue (start workers with \`kldm worker --queue URL\`):
${queueUsage('structures')}
`;

function positiveNumber(flag: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!/^[0-9.eE+-]+$/.test(raw) || !(v > 0) || !Number.isFinite(v)) throw new InputError(`${flag} must be a positive number, got "${raw}"`);
  return v;
}

function intFlag(flag: string, raw: string | undefined, min: number, dflt: number): number {
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new InputError(`${flag} must be an integer >= ${min}, got "${raw}"`);
  return Number(raw);
}

export const relaxCommand: Command = {
  name: 'relax',
  summary: 'relax crystals with the M3GNet universal potential (FIRE + cell filter), offline',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        format: { type: 'string', default: 'cif' },
        jsonl: { type: 'string' },
        trajectory: { type: 'boolean', default: false },
        json: { type: 'string' },
        fmax: { type: 'string' },
        'max-steps': { type: 'string' },
        'fix-cell': { type: 'boolean', default: false },
        'cell-force': { type: 'string', default: 'ase' },
        'batch-size': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        hull: { type: 'boolean', default: false },
        queue: { type: 'string' },
        'queue-name': { type: 'string' },
        'shard-size': { type: 'string' },
      },
    });
    if (values.queue === undefined && (values['queue-name'] !== undefined || values['shard-size'] !== undefined)) {
      throw new InputError('--queue-name and --shard-size need --queue <redis://...>');
    }
    if (values.queue !== undefined && values.jsonl === undefined) throw new InputError('--queue shards --jsonl runs; give --jsonl <file> --out <file.jsonl>');
    if (values['cell-force'] !== 'ase' && values['cell-force'] !== 'exact') throw new InputError(`--cell-force must be ase or exact, got "${values['cell-force']}"`);
    const format = values.format as StructureFormat;
    if (!STRUCTURE_FORMATS.includes(format)) throw new InputError(`--format must be one of ${STRUCTURE_FORMATS.join(', ')}, got "${values.format}"`);
    const options: RelaxOptions = {
      fmax: positiveNumber('--fmax', values.fmax, 0.05),
      maxSteps: intFlag('--max-steps', values['max-steps'], 0, 500),
      relaxCell: !values['fix-cell'],
      cellForce: values['cell-force'],
    };
    const batchSize = intFlag('--batch-size', values['batch-size'], 1, 64);
    if (values.jsonl !== undefined) {
      if (positionals.length > 0) throw new InputError('give either structure files or --jsonl, not both');
      if (!values.out || !values.out.endsWith('.jsonl')) throw new InputError('--jsonl needs --out <relaxed.jsonl>');
      if (values.trajectory || values.json) throw new InputError('--trajectory and --json apply to structure files; the JSONL output has every result');
      const input = readStructureJsonl(values.jsonl);
      if (values.queue !== undefined) {
        return relaxOnQueue({ url: values.queue, queueName: values['queue-name'], shardSize: values['shard-size'], input, out: values.out, options, batchSize, hull: values.hull, quiet: values.quiet });
      }
      const potential = m3gnetPotential();
      const scorer = values.hull ? await StabilityScorer.create(potential, M3GNET_ASSET, { onProgress: (l) => process.stderr.write(l + '\n') }) : null;
      const progress = new Progress({ label: 'relaxing', total: input.length, unit: 'structures', quiet: values.quiet });
      const score = scorer
        ? (res: RelaxResult): Record<string, unknown> => {
            const st = scorer.score(res.final, res.energy);
            return { formation_energy_per_atom: st.formationEnergyPerAtom, e_above_hull: st.eAboveHull, mp2020_correction: st.correction, ...(st.note ? { hull_note: st.note } : {}) };
          }
        : undefined;
      const r = relaxJsonl({ input, outPath: values.out, potential, options, batchSize, onProgress: (d) => progress.update(d), ...(score ? { score } : {}) });
      progress.finish();
      console.log(`${values.out}: ${r.alreadyDone + r.relaxed + r.failed}/${r.total} structures (${r.alreadyDone} already there; ${r.relaxed} relaxed, ${r.converged} converged, ${r.failed} unreadable or failed) in ${r.seconds.toFixed(0)} s`);
      return 0;
    }
    if (positionals.length === 0) throw new InputError('give structure files to relax, or --jsonl <file> (kldm relax --help)');
    const structures = positionals.map((p) => readStructureFile(p));
    const potential = m3gnetPotential();
    const scorer = values.hull ? await StabilityScorer.create(potential, M3GNET_ASSET, { onProgress: (l) => process.stderr.write(l + '\n') }) : null;
    const results: ReturnType<typeof relaxStructures> = [];
    const progress = new Progress({ label: 'relaxing', total: structures.length, unit: 'structures', quiet: values.quiet });
    for (let start = 0; start < structures.length; start += batchSize) {
      results.push(...relaxStructures(structures.slice(start, start + batchSize), potential, { ...options, trajectory: values.trajectory }));
      progress.update(results.length);
    }
    progress.finish();
    if (values.out) mkdirSync(values.out, { recursive: true });
    const rows = results.map((r, k) => {
      const name = basename(positionals[k]!, extname(positionals[k]!));
      const v0 = volume(r.initial.lattice);
      const v1 = volume(r.final.lattice);
      const row = {
        file: positionals[k]!, atoms: r.initial.species.length, converged: r.converged, steps: r.steps,
        initial_energy_per_atom: r.initialEnergy / r.initial.species.length, energy_per_atom: r.energyPerAtom, energy: r.energy,
        fmax: r.fmax, volume_change_percent: (100 * (v1 - v0)) / v0, out: null as string | null,
        formation_energy_per_atom: null as number | null, e_above_hull: null as number | null,
      };
      if (scorer) {
        const st = scorer.score(r.final, r.energy);
        row.formation_energy_per_atom = st.formationEnergyPerAtom;
        row.e_above_hull = st.eAboveHull;
      }
      if (values.out) {
        const ext = format === 'poscar' ? 'vasp' : format === 'extxyz' ? 'extxyz' : format;
        row.out = join(values.out, `${name}_relaxed.${ext}`);
        writeFileAtomic(row.out, formatStructure(r.final, format, `${name} relaxed with M3GNet-MP-2021.2.8 (E = ${r.energy.toFixed(6)} eV)`));
        if (r.trajectory) {
          const frames = r.trajectory.map((f, i) => writeExtxyz(f.structure, `step ${i} energy ${f.energy.toFixed(8)} eV fmax ${f.fmax.toFixed(5)} eV/A`)).join('');
          writeFileAtomic(join(values.out, `${name}_relax.extxyz`), frames);
        }
      }
      return row;
    });
    const hullHead = scorer ? '  E_f (eV/atom)  E_hull (eV/atom)' : '';
    console.log(`file                          atoms  conv  steps   E/atom before → after (eV)   fmax (eV/Å)  ΔV (%)${hullHead}`);
    const num = (x: number | null, w: number): string => (x === null ? '-' : x.toFixed(4)).padStart(w);
    for (const r of rows) {
      const hullCols = scorer ? `  ${num(r.formation_energy_per_atom, 13)}  ${num(r.e_above_hull, 16)}` : '';
      console.log(`${r.file.padEnd(30).slice(0, 30)} ${String(r.atoms).padStart(5)}  ${r.converged ? 'yes ' : 'NO  '} ${String(r.steps).padStart(5)}   ${r.initial_energy_per_atom.toFixed(4).padStart(9)} → ${r.energy_per_atom.toFixed(4).padStart(9)}   ${r.fmax.toFixed(4).padStart(10)}  ${r.volume_change_percent.toFixed(2).padStart(6)}${hullCols}`);
    }
    if (scorer) console.log('E_f: M3GNet-MP-2021.2.8 + MP2020 corrections; E_hull: above the MP-20 DFT hull (all splits). Not comparable to MatterSim / Alex-MP figures.');
    if (values.json) writeFileSync(values.json, JSON.stringify({ potential: 'M3GNet-MP-2021.2.8-PES', options, results: rows }, null, 2) + '\n');
    const open = rows.filter((r) => !r.converged).length;
    if (open > 0) console.log(`${open} structure(s) did not reach fmax ${options.fmax} eV/Å within ${options.maxSteps} steps (raise --max-steps)`);
    return 0;
  },
};

async function relaxOnQueue(a: {
  url: string; queueName: string | undefined; shardSize: string | undefined; input: RelaxInputRecord[]; out: string;
  options: RelaxOptions; batchSize: number; hull: boolean; quiet: boolean;
}): Promise<number> {
  parseQueueUrl(a.url); // a bad URL is refused before any planning
  const shardSize = intFlag('--shard-size', a.shardSize, 1, a.batchSize);
  const params: RelaxRunParams = {
    potential: M3GNET_ASSET,
    weightsSha256: potentialWeightsSha256(),
    options: { fmax: a.options.fmax!, maxSteps: a.options.maxSteps!, relaxCell: a.options.relaxCell!, cellForce: a.options.cellForce! },
    hull: a.hull,
    batchSize: a.batchSize,
  };
  const shards = planRelaxShards(a.input.map((r) => toShardRecord(r)), params, shardSize);
  if (existsSync(a.out) && readFileSync(a.out, 'utf8').split('\n').filter((l) => l.trim()).length === a.input.length) {
    console.log(`${a.out}: already complete (${a.input.length} structures); nothing to do`);
    return 0;
  }
  return runQueuedCommand({ command: 'relax', url: a.url, queueName: a.queueName, shards, out: a.out, quiet: a.quiet, unit: 'structures', itemsOf: (s) => s.chunks.reduce((n, c) => n + c.length, 0), what: `${a.input.length} structures` });
}
