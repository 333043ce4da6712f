/**
 * `kldm evaluate csp`: match rate and RMSE @1 / @k of CSP predictions against a
 * dataset split (spec §9), with pymatgen-equivalent matching.
 */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { evaluateCsp, groupAtomCounts, type UnmatchedCauses } from '../../eval/csp.js';
import { loadCspGroundTruth, loadCspGroundTruthCsv, readPredictionsJsonl } from '../../eval/predictionsFile.js';
import type { ValidityProtocol } from '../../eval/validity.js';
import { randomSubset } from '../../predict/sampleSplit.js';
import { intOption as intFlag } from '../args.js';
import { dngUsage, runEvaluateDng } from './evaluateDng.js';

const usage = `Usage: kldm evaluate csp (--dataset <name> [--split <split>] | --dataset-csv <file>) --predictions <preds.jsonl> [options]

Scores crystal-structure predictions against the ground truth of a dataset split
or of your own CSV
(spec §9): StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3) as pymatgen 2022.x,
match rate (MR) and RMSE @1 (sample 0) and @k (k = samples per material).
The denominator is every material of the split; missing, malformed and invalid
predictions count as unmatched.

Predictions: JSON Lines {"material_id": string, "sample": int, "cif": string}.

Options:
  --dataset <name>        perov_5, carbon_24, mp_20, mpts_52
  --split <split>         train, val or test (default test)
  --dataset-csv <file>    instead of --dataset: any CSV (optionally gzipped) with material_id
                          and cif columns, e.g. the file given to kldm sample --dataset-csv
  --predictions <file>    predictions (.jsonl or .jsonl.gz)
  --protocol <p>          kldm (default: structural validity, 40 Å cap) or diffcsp (adds SMACT)
  --k <n>                 samples per material (default: 1 + largest sample index)
  --workers <n>           worker threads (default: up to 2 cores; 0 = none)
  --subset <n>            score only the fixed random subset of n materials that
                          \`kldm sample --subset n --subset-seed s\` sampled (the
                          denominator is then those n materials, and the report says so)
  --subset-seed <s>       seed of that subset (default 0)
  --limit <n>             score only the first n materials of the split, as
                          \`kldm sample --limit n\` sampled (applied before --subset, as there)
  --json <file>           write the full report (per-material results) as JSON
  --quiet                 no progress line
`;

/** Display groups of the per-size breakdown (cells of MP-20 have 1-20 atoms, MPTS-52 up to 52). */
const ATOM_COUNT_RANGES: ReadonlyArray<readonly [number, number]> = [[1, 4], [5, 8], [9, 12], [13, 16], [17, 20], [21, 30], [31, 40], [41, 52], [53, Number.MAX_SAFE_INTEGER]];

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function num(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(4);
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'CSP metrics (match rate, RMSE @1 and @k) of predictions against a dataset split or your own CSV, or DNG metrics (validity, coverage, W1, uniqueness, novelty) of generated crystals',
  usage: `${usage}\n${dngUsage}`,
  async run(argv) {
    // `kldm evaluate dng ...` (de novo generation, spec §10.1) has its own options
    if (argv.some((a, i) => a === 'dng' && (i === 0 || !argv[i - 1]!.startsWith('--')))) return runEvaluateDng(argv);
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        dataset: { type: 'string' },
        'dataset-csv': { type: 'string' },
        split: { type: 'string' },
        predictions: { type: 'string' },
        protocol: { type: 'string', default: 'kldm' },
        k: { type: 'string' },
        workers: { type: 'string' },
        json: { type: 'string' },
        subset: { type: 'string' },
        'subset-seed': { type: 'string', default: '0' },
        limit: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1 || positionals[0] !== 'csp') throw new InputError(`expected the task "csp" or "dng" (kldm evaluate csp|dng ...), got "${positionals.join(' ')}"`);
    const csv = values['dataset-csv'];
    if (Boolean(values.dataset) === Boolean(csv)) throw new InputError('give exactly one of --dataset <name> or --dataset-csv <file>');
    if (csv && values.split !== undefined) throw new InputError('--split goes with --dataset, not with --dataset-csv');
    const split = values.split ?? 'test';
    const source = csv ? csv : `${values.dataset}/${split}`;
    if (!values.predictions) throw new InputError('--predictions is required');
    const protocol = values.protocol as ValidityProtocol;
    if (protocol !== 'kldm' && protocol !== 'diffcsp') throw new InputError(`--protocol must be kldm or diffcsp, got "${values.protocol}"`);
    const k = intFlag('--k', values.k, 1);
    const workers = intFlag('--workers', values.workers, 0);

    const subset = intFlag('--subset', values.subset, 1);
    const subsetSeed = intFlag('--subset-seed', values['subset-seed'], 0) ?? 0;
    const limit = intFlag('--limit', values.limit, 1);

    const allGts = csv ? loadCspGroundTruthCsv(csv) : loadCspGroundTruth(values.dataset!, split);
    // The same selection as `kldm sample --limit n --subset m`: the first n materials, then the first m of a
    // seeded permutation of those (split order kept).
    const limitedGts = limit === undefined ? allGts : allGts.slice(0, limit);
    const gts = subset === undefined ? limitedGts : randomSubset(limitedGts, subset, subsetSeed);
    const file = readPredictionsJsonl(values.predictions);
    // With --subset or --limit, predictions for materials of the split outside the selection (a file sampled
    // for the full split) are set aside and counted as such, not reported as unknown ids.
    let predictions = file.predictions;
    let outsideSelection = 0;
    if (subset !== undefined || limit !== undefined) {
      const selected = new Set(gts.map((g) => g.materialId));
      const inSplit = new Set(allGts.map((g) => g.materialId));
      predictions = predictions.filter((p) => {
        const outside = !selected.has(p.materialId) && inSplit.has(p.materialId);
        if (outside) outsideSelection++;
        return !outside;
      });
    }
    const report = await evaluateCsp(gts, predictions, {
      protocol,
      progress: !values.quiet,
      ...(k !== undefined ? { k } : {}),
      ...(workers !== undefined ? { workers } : {}),
    });

    const c = report.counts;
    const lines = [
      `CSP evaluation: ${source}, protocol ${protocol}, ${report.n_materials} materials` +
        (limit !== undefined ? ` (the first ${limitedGts.length} of ${allGts.length}: --limit ${limit})` : '') +
        (subset !== undefined ? ` (fixed random subset: --subset ${subset} --subset-seed ${subsetSeed} of ${limitedGts.length})` : '') +
        `, k = ${report.k}`,
      `  MR@1   ${pct(report.mr_at_1).padStart(9)}   RMSE@1   ${num(report.rmse_at_1)}`,
    ];
    if (report.k > 1) {
      lines.push(`  MR@${report.k}`.padEnd(8) + ` ${pct(report.mr_at_k).padStart(9)}   RMSE@${report.k}`.padEnd(12) + `   ${num(report.rmse_at_k)}`);
      lines.push(`  per-sample runs: MR ${pct(report.mr_at_1_mean)} ± ${pct(report.mr_at_1_std)}, RMSE ${num(report.rmse_at_1_mean)} ± ${num(report.rmse_at_1_std)}`);
    }
    lines.push(
      `  predictions ${c.predictions}: matched ${c.matched}, unmatched ${c.unmatched}, invalid ${c.invalid}, malformed ${c.malformed}; ` +
        `missing ${c.missing} (of ${report.n_materials * report.k} slots; ${c.missing_at_1} at sample 0); ` +
        `unreadable lines ${file.unreadableLines}, unknown ids ${c.unknown_material}, duplicates ${c.duplicate}, sample out of range ${c.out_of_range_sample}` +
        (protocol === 'diffcsp' ? `; invalid ground truths ${c.gt_invalid}` : '') +
        (subset !== undefined || limit !== undefined ? `; outside the ${subset !== undefined ? 'subset' : 'limit'} (ignored) ${outsideSelection}` : ''),
    );
    lines.push(`  why sample 0 did not match: ${formatCauses(report.unmatched_at_1)}`);
    // MR by ground-truth cell size, when the split has several sizes (spec §9 metrics per group)
    const groups = groupAtomCounts(report.by_atom_count, ATOM_COUNT_RANGES);
    if (groups.length > 1) {
      lines.push(`  by atoms per cell:`);
      for (const g of groups) {
        lines.push(
          `    ${(g.hi === Number.MAX_SAFE_INTEGER ? `${g.lo}+` : `${g.lo}-${g.hi}`).padStart(7)}: ${String(g.n_materials).padStart(6)} materials, MR@1 ${pct(g.mr_at_1).padStart(8)}, RMSE@1 ${num(g.rmse_at_1)}` +
            (report.k > 1 ? `, MR@${report.k} ${pct(g.mr_at_k).padStart(8)}, RMSE@${report.k} ${num(g.rmse_at_k)}` : '') +
            `; misses: lattice ${g.unmatched_at_1.lattice}, sites ${g.unmatched_at_1.sites}, other ${otherCauses(g.unmatched_at_1)}`,
        );
      }
    }
    console.log(lines.join('\n'));
    const problems = [...file.messages, ...report.messages];
    if (problems.length > 0) {
      console.error(`${problems.length} problem(s) in the input${problems.length >= 50 ? ' (first ones)' : ''}:`);
      for (const m of problems.slice(0, 10)) console.error(`  ${m}`);
      if (problems.length > 10) console.error(`  ... (all of them in --json output)`);
    }
    if (values.json) {
      const subsetInfo = subset === undefined ? null : { n: subset, seed: subsetSeed, of: limitedGts.length, predictions_outside: outsideSelection };
      const limitInfo = limit === undefined ? null : { n: limitedGts.length, of: allGts.length, predictions_outside: outsideSelection };
      const out = { dataset: csv ? null : values.dataset, split: csv ? null : split, dataset_csv: csv ?? null, subset: subsetInfo, limit: limitInfo, predictions_file: values.predictions, unreadable_lines: file.unreadableLines, ...report, messages: problems };
      writeFileAtomic(values.json, JSON.stringify(out, null, 1) + '\n');
      console.log(`report written to ${values.json}`);
    }
    return 0;
  },
};

/** "lattice 12 (cell shape off), sites 30 (shape right, atoms wrong), ..." with the non-zero causes only. */
function formatCauses(c: UnmatchedCauses): string {
  const label: Record<keyof UnmatchedCauses, string> = {
    lattice: 'cell shape outside ltol/angle_tol',
    sites: 'cell shape right, atoms outside stol',
    site_count: 'primitive cells of different size',
    composition: 'different composition',
    invalid: 'invalid prediction',
    malformed: 'malformed prediction',
    missing: 'no prediction',
    gt_invalid: 'ground truth invalid (diffcsp protocol)',
  };
  const parts = (Object.keys(label) as Array<keyof UnmatchedCauses>).filter((k) => c[k] > 0).map((k) => `${k} ${c[k]} (${label[k]})`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function otherCauses(c: UnmatchedCauses): number {
  return c.site_count + c.composition + c.invalid + c.malformed + c.missing + c.gt_invalid;
}
