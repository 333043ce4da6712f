/**
 * `kldm match`: pymatgen-equivalent StructureMatcher (stol 0.5, angle_tol 10,
 * ltol 0.3; spec §9) on one pair of CIF files or on a JSON Lines file of pairs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { initMatching, matchCifs } from '../../eval/match.js';

const usage = `Usage: kldm match <pred.cif> <gt.cif>
       kldm match --pairs <pairs.jsonl>

Compares a predicted structure with a ground truth like pymatgen 2022.x
StructureMatcher(stol=0.5, angle_tol=10, ltol=0.3).get_rms_dist(pred, gt)
(spec §9). The ground truth's site order matters (as in pymatgen).

One pair: prints {"match": bool, "rms": number|null, "max_dist": number|null, "failure": why not matched|null}
(failure: "lattice" = cell shape outside ltol/angle_tol, "sites" = shape right, atoms outside stol,
"site_count" = primitive cells of different size, "composition").
--pairs: reads lines {"id", "cif_a" (prediction), "cif_b" (ground truth)} and
prints one line {"id", "match", "rms", "failure"} per pair, in input order; a pair that
cannot be read gets "match": false, "rms": null and an "error".
`;

function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new InputError(`${what} ${path} does not exist`);
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

export const matchCommand: Command = {
  name: 'match',
  summary: 'pymatgen-equivalent structure matching (rms) of one CIF pair or a JSONL file of pairs',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { pairs: { type: 'string' } } });
    await initMatching();
    if (values.pairs !== undefined) {
      if (positionals.length > 0) throw new InputError('give either --pairs <file> or two CIF files, not both');
      const lines = readText(values.pairs, 'pairs file').split('\n');
      const out: string[] = [];
      for (let i = 0; i < lines.length; i++) {
        const text = lines[i]!.trim();
        if (text === '') continue;
        let id: unknown = null;
        try {
          const o = JSON.parse(text) as Record<string, unknown>;
          id = o?.id ?? null;
          if (typeof o?.cif_a !== 'string' || typeof o?.cif_b !== 'string') throw new InputError('needs string fields cif_a and cif_b');
          const r = matchCifs(o.cif_a, o.cif_b);
          out.push(JSON.stringify({ id, match: r.match, rms: r.rms, failure: r.failure }));
        } catch (err) {
          out.push(JSON.stringify({ id, match: false, rms: null, error: `${values.pairs}:${i + 1}: ${err instanceof Error ? err.message : String(err)}` }));
        }
        if (out.length >= 256) {
          console.log(out.join('\n'));
          out.length = 0;
        }
      }
      if (out.length > 0) console.log(out.join('\n'));
      return 0;
    }
    if (positionals.length !== 2) throw new InputError('expected two CIF files: kldm match <pred.cif> <gt.cif> (or --pairs <file>)');
    const pred = readText(positionals[0]!, 'prediction CIF');
    const gt = readText(positionals[1]!, 'ground-truth CIF');
    let r;
    try {
      r = matchCifs(pred, gt);
    } catch (err) {
      throw new InputError(err instanceof Error ? err.message : String(err));
    }
    console.log(JSON.stringify({ match: r.match, rms: r.rms, max_dist: r.maxDist, failure: r.failure }));
    return 0;
  },
};
