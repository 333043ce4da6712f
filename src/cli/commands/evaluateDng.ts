/**
 * `kldm evaluate dng`: the DNG proxy metrics (spec §10.1) of generated crystals against a dataset:
 * validity, COV-R/COV-P, Wasserstein distances of density and element count, uniqueness, novelty.
 */
import { parseArgs } from 'node:util';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { intOption } from '../args.js';
import { evaluateDng, type DngReport } from '../../eval/dng/evaluate.js';
import { readGeneratedJsonl } from '../../eval/dng/generatedFile.js';
import { loadMagpie } from '../../eval/dng/magpie.js';
import { requireAsset } from '../../assets/index.js';
import { dngStability, dngStabilityFromRelaxed, stabilityIndices, type DngStabilityReport } from '../../eval/dng/stability.js';
import { readRelaxedJsonl } from '../../eval/dng/relaxedFile.js';
import { readCifForMatching } from '../../eval/cifReader.js';
import { M3GNET_ASSET, m3gnetPotential } from '../../potential/shipped.js';
import { StabilityScorer } from '../../thermo/stability.js';

export const dngUsage = `Usage: kldm evaluate dng --dataset <name> --generated <file.jsonl> [options]

Scores generated crystals (de novo generation) with the DiffCSP/KLDM proxy metrics (spec §10.1):
structural, SMACT composition and overall validity; COV-R / COV-P with the dataset's cut-offs from
CrystalNN "ops" and magpie fingerprints (pymatgen/matminer ports); Wasserstein-1 distances of
density and number of elements to the reference split (DiffCSP: 1,000 valid samples, fixed seed;
also over all valid samples); uniqueness within the set and novelty against the training split
(StructureMatcher ltol 0.2, stol 0.3, angle_tol 5; composition-bucketed).

Generated file: JSON Lines with a "cif" field and an id ("id", "material_id" or "name"; else the line number).

Options:
  --dataset <name>        perov_5, carbon_24, mp_20 (mpts_52 needs --cov-cutoffs)
  --generated <file>      generated structures (.jsonl or .jsonl.gz)
  --magpie <dir>          folder with the 22 magpie element tables (default: the installed asset magpie)
  --reference <split>     reference split for COV and distances (default test)
  --train <split>         split for novelty (default train); "none" skips novelty
  --samples <n>           valid samples for the DiffCSP-protocol distances (default 1000)
  --seed <s>              seed of that draw (default 42)
  --cov-cutoffs <s,c>     structural and composition cut-offs (default: the dataset's)
  --cov-valid-only        KLDM's variant: only valid structures take part in COV (DiffCSP: all fingerprinted)
  --no-matching           skip uniqueness and novelty
  --json <file>           write the full report (with per-structure fields) as JSON
  --quiet                 no progress line

Stability (spec §10.2; "M3GNet-MP-2021.2.8 relaxation + MP-20 DFT hull (MP2020)", not the paper's MatterSim numbers):
  --stability             relax every structurally valid crystal with M3GNet (kldm assets fetch m3gnet-mp-2021.2.8)
                          and report RMSD to the relaxed structure (Å), mean E_hull, stable % (<= 0.1 and <= 0 eV/atom)
                          and S.U.N. % over all generated (needs the mp_20 dataset for the hull)
  --stability-limit <n>   relax only the first n valid structures (S.U.N. then over that subset)
  --relaxed <file.jsonl>  instead of relaxing here: the output of kldm relax --jsonl <generated> --out <file.jsonl>
                          (resumable, shardable with --queue); every structure scored must be in it (by id)
  --fmax <eV/Å>           relaxation force criterion (default 0.05); --max-steps <n> (default 500)
`;

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function f4(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(4);
}

export function formatDngReport(r: DngReport): string {
  const lines = [
    `DNG evaluation: ${r.counts.generated} generated structures vs ${r.dataset}/${r.referenceSplit} (${r.counts.reference} reference structures), ${r.seconds.toFixed(1)} s`,
    `  validity: structural ${pct(r.validity.struct)}, composition ${pct(r.validity.comp)}, overall ${pct(r.validity.overall)} (${r.counts.valid} valid, ${r.counts.constructed} readable)`,
  ];
  if (r.coverage) {
    const c = r.coverage;
    lines.push(`  COV-R ${pct(c.covRecall)}  COV-P ${pct(c.covPrecision)}  (cut-offs struct ${c.cutoffs.struct}, comp ${c.cutoffs.comp}${c.validOnly ? ', valid structures only' : ''}; AMSD-R ${f4(c.amsdRecall)} AMSD-P ${f4(c.amsdPrecision)} AMCD-R ${f4(c.amcdRecall)} AMCD-P ${f4(c.amcdPrecision)})`);
  }
  const w = r.wasserstein;
  if (w.sampled) lines.push(`  W1 density ${f4(w.sampled.density)}  W1 #elements ${f4(w.sampled.nElements)}  (DiffCSP: ${w.sampled.n} valid samples, seed ${w.sampled.seed})`);
  if (w.allValid) lines.push(`  W1 density ${f4(w.allValid.density)}  W1 #elements ${f4(w.allValid.nElements)}  (all ${w.allValid.n} valid samples)`);
  if (r.uniqueness) lines.push(`  unique ${pct(r.uniqueness.rate)} of valid (${r.uniqueness.uniqueValid})`);
  if (r.novelty) lines.push(`  novel ${pct(r.novelty.rate)} of valid (${r.novelty.novelValid}); unique and novel ${pct(r.novelty.uniqueNovelRate)} of valid, ${pct(r.novelty.uniqueNovelOfGenerated)} of generated`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export async function runEvaluateDng(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      dataset: { type: 'string' },
      generated: { type: 'string' },
      magpie: { type: 'string' },
      stability: { type: 'boolean', default: false },
      'stability-limit': { type: 'string' },
      relaxed: { type: 'string' },
      fmax: { type: 'string' },
      'max-steps': { type: 'string' },
      reference: { type: 'string', default: 'test' },
      train: { type: 'string', default: 'train' },
      samples: { type: 'string' },
      seed: { type: 'string' },
      'cov-cutoffs': { type: 'string' },
      'no-matching': { type: 'boolean', default: false },
      'cov-valid-only': { type: 'boolean', default: false },
      json: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== 'dng') throw new InputError(`expected the task "dng" (kldm evaluate dng ...), got "${positionals.join(' ')}"`);
  if (!values.dataset) throw new InputError('--dataset is required');
  if (!values.generated) throw new InputError('--generated is required');
  let cutoffs: { struct: number; comp: number } | undefined;
  if (values['cov-cutoffs'] !== undefined) {
    const parts = values['cov-cutoffs'].split(',').map(Number);
    if (parts.length !== 2 || parts.some((x) => !(x > 0))) throw new InputError(`--cov-cutoffs must be two positive numbers "struct,comp", got "${values['cov-cutoffs']}"`);
    cutoffs = { struct: parts[0]!, comp: parts[1]! };
  }
  // the magpie element tables come from the asset store (kldm assets fetch magpie) unless a folder is given
  const magpie = loadMagpie(values.magpie ?? requireAsset('magpie').dir);
  const file = readGeneratedJsonl(values.generated);
  const bars = new Map<string, Progress>();
  const report = await evaluateDng(file.structures, {
    dataset: values.dataset,
    magpie,
    referenceSplit: values.reference!,
    trainSplit: values.train === 'none' ? null : values.train!,
    ...(values.samples !== undefined ? { nSamples: intOption('--samples', values.samples, 1)! } : {}),
    ...(values.seed !== undefined ? { seed: intOption('--seed', values.seed, 0)! } : {}),
    ...(cutoffs ? { cutoffs } : {}),
    skipMatching: values['no-matching'],
    coverageValidOnly: values['cov-valid-only'],
    onProgress: (stage, done, total) => {
      let bar = bars.get(stage);
      if (!bar) {
        bar = new Progress({ label: stage, total, unit: 'structures', quiet: values.quiet });
        bars.set(stage, bar);
      }
      if (done === total) bar.finish();
      else bar.update(done);
    },
  });
  console.log(formatDngReport(report));
  let stability: DngStabilityReport | null = null;
  if (values.stability || values.relaxed !== undefined) {
    const potential = m3gnetPotential();
    const scorer = await StabilityScorer.create(potential, M3GNET_ASSET, { onProgress: (l) => console.error(l) });
    const bar = new Progress({ label: 'relaxing', total: 1, unit: 'structures', quiet: values.quiet });
    const fmax = values.fmax === undefined ? 0.05 : Number(values.fmax);
    if (!(fmax > 0)) throw new InputError(`--fmax must be a positive number, got "${values.fmax}"`);
    // the structures as evaluateDng read them (unreadable ones are null and not relaxed)
    const parsed = file.structures.map((g) => {
      if (!g.cif) return null;
      try {
        return readCifForMatching(g.cif, `generated ${g.id}`);
      } catch {
        return null;
      }
    });
    const limit = values['stability-limit'] !== undefined ? intOption('--stability-limit', values['stability-limit'], 1)! : undefined;
    if (values.relaxed !== undefined) {
      const relaxed = readRelaxedJsonl(values.relaxed);
      const missing = stabilityIndices(parsed, report.structures, limit).filter((i) => !relaxed.has(file.structures[i]!.id));
      if (missing.length > 0) {
        throw new InputError(
          `--relaxed ${values.relaxed}: ${missing.length} structurally valid generated structure(s) have no relaxation there ` +
            `(first: ${missing.slice(0, 3).map((i) => file.structures[i]!.id).join(', ')}); finish kldm relax --jsonl ${values.generated} --out ${values.relaxed} first`,
        );
      }
      stability = dngStabilityFromRelaxed(parsed, report.structures, (i) => {
        const r = relaxed.get(file.structures[i]!.id)!;
        return r.final ? { final: r.final, energy: r.energy, converged: r.converged } : { final: parsed[i]!, energy: Number.NaN, converged: false };
      }, { scorer, ...(limit !== undefined ? { limit } : {}) });
    } else {
      stability = dngStability(parsed, report.structures, {
        potential, scorer, fmax, maxSteps: intOption('--max-steps', values['max-steps'], 1) ?? 500,
        ...(limit !== undefined ? { limit } : {}),
        onProgress: (d, t) => { (bar as unknown as { total: number }).total = t; bar.update(d); },
      });
    }
    bar.finish();
    const pct = (x: number | null): string => (x === null ? '-' : `${x.toFixed(2)} %`);
    const ev = (x: number | null, d = 4): string => (x === null ? '-' : x.toFixed(d));
    console.log(`stability (${stability.label}): ${stability.relaxed} relaxed (${stability.converged} converged), RMSD ${ev(stability.rmsdMean)} Å (${stability.unmatched} unmatched), mean E_hull ${ev(stability.eHullMean)} eV/atom, stable ${pct(stability.stablePercent)} (<= 0.1), ${pct(stability.stableAt0Percent)} (<= 0), S.U.N. ${pct(stability.sunPercent)} of ${stability.sunOver}`);
  }
  if (file.messages.length > 0) {
    console.error(`${file.messages.length} problem(s) in ${values.generated}:`);
    for (const m of file.messages.slice(0, 10)) console.error(`  ${m}`);
  }
  if (values.json) {
    writeFileAtomic(values.json, JSON.stringify({ generated_file: values.generated, unreadable_lines: file.unreadableLines, messages: file.messages, ...report, ...(stability ? { stability } : {}) }, null, 1) + '\n');
    console.log(`report written to ${values.json}`);
  }
  return 0;
}
