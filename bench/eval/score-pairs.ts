/**
 * Scores a matcher on the pymatgen reference pairs, per category.
 *   npx tsx bench/eval/score-pairs.ts [--matcher kldm|ferrox] [--pairs file] [--limit N] [--show-disagreements]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { formatPairScore, loadReferencePairs, scorePairs, type PairMatcher } from '../../src/eval/pairScoring.js';
import { loadFerrox, readCifForMatching } from '../../src/eval/cifReader.js';
import { getRmsDist } from '../../src/eval/matcher/structureMatcher.js';

const { values } = parseArgs({
  options: {
    matcher: { type: 'string', default: 'kldm' },
    pairs: { type: 'string', default: fileURLToPath(new URL('../../src/eval/fixtures/matcher_pairs.dev.jsonl.gz', import.meta.url)) },
    limit: { type: 'string' },
    category: { type: 'string' },
    'show-disagreements': { type: 'boolean', default: false },
  },
});

const ferrox = await loadFerrox();
let pairs = loadReferencePairs(values.pairs!);
if (values.category) pairs = pairs.filter((p) => `${p.source}/${p.category}`.includes(values.category!));
if (values.limit) pairs = pairs.slice(0, Number(values.limit));

let matcher: PairMatcher;
if (values.matcher === 'ferrox') {
  const m = new ferrox.WasmStructureMatcher().with_latt_len_tol(0.3).with_site_pos_tol(0.5).with_angle_tol(10).with_primitive_cell(true).with_scale(true).with_attempt_supercell(false);
  matcher = (a, b) => {
    const ra = ferrox.parse_cif(a);
    const rb = ferrox.parse_cif(b);
    if (!('ok' in ra) || !('ok' in rb)) throw new Error('parse');
    const r = m.get_rms_dist(ra.ok, rb.ok);
    if (!('ok' in r)) throw new Error(r.error);
    return r.ok == null ? null : r.ok.rms;
  };
} else {
  matcher = (a, b) => {
    const r = getRmsDist(readCifForMatching(a, 'cif_a'), readCifForMatching(b, 'cif_b'));
    return r === null ? null : r.rms;
  };
}
const score = scorePairs(pairs, matcher);
console.log(formatPairScore(score, values.matcher));
console.log(`\n${pairs.length} pairs in ${score.seconds.toFixed(2)} s = ${(pairs.length / score.seconds).toFixed(1)} pairs/s`);
if (values['show-disagreements']) for (const d of score.disagreements) console.log(JSON.stringify(d));
