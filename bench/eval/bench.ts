/**
 * Matcher throughput on the 1,935 pymatgen reference pairs:
 *   1. single thread, CIF parsing + matching (what `kldm match --pairs` does);
 *   2. single thread, matching only (structures parsed beforehand);
 *   3. evaluateCsp inline vs worker threads (each pair = one material).
 *   npm run bench:eval [-- --repeat 2]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { loadReferencePairs } from '../../src/eval/pairScoring.js';
import { loadFerrox, readCifForMatching } from '../../src/eval/cifReader.js';
import { matchStructures } from '../../src/eval/match.js';
import { evaluateCsp } from '../../src/eval/csp.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '1' } } });
const repeat = Math.max(1, Number(values.repeat));
await loadFerrox();
const pairs = loadReferencePairs(fileURLToPath(new URL('../../src/eval/fixtures/matcher_pairs.dev.jsonl.gz', import.meta.url)));
const n = pairs.length * repeat;

// warm-up (JIT) on the first 300 pairs
for (let i = 0; i < 300; i++) matchStructures(readCifForMatching(pairs[i]!.cifA), readCifForMatching(pairs[i]!.cifB));

// CPU time of this thread (robust when other jobs share the cores)
const cpuSeconds = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;
let c0 = process.cpuUsage();
let t = performance.now();
for (let r = 0; r < repeat; r++) for (const p of pairs) matchStructures(readCifForMatching(p.cifA), readCifForMatching(p.cifB));
const parseAndMatch = n / ((performance.now() - t) / 1000);
const parseAndMatchCpu = n / cpuSeconds(process.cpuUsage(c0));

// plain loop: WASM calls inside Array.map callbacks can crash Node 20 (V8 deopt SIGTRAP)
const parsed: Array<readonly [ReturnType<typeof readCifForMatching>, ReturnType<typeof readCifForMatching>]> = [];
for (const p of pairs) parsed.push([readCifForMatching(p.cifA), readCifForMatching(p.cifB)] as const);
c0 = process.cpuUsage();
t = performance.now();
for (let r = 0; r < repeat; r++) for (const [a, b] of parsed) matchStructures(a, b);
const matchOnly = n / ((performance.now() - t) / 1000);
const matchOnlyCpu = n / cpuSeconds(process.cpuUsage(c0));

const gts = pairs.map((p) => ({ materialId: p.id, cif: p.cifB }));
const preds = pairs.map((p) => ({ materialId: p.id, sample: 0, cif: p.cifA }));
const inline = await evaluateCsp(gts, preds, { workers: 0 });
const workers = Math.min(2, availableParallelism());
const threaded = await evaluateCsp(gts, preds, { workers });

console.log(`pairs: ${pairs.length} x ${repeat}, cores: ${availableParallelism()}`);
console.log(`single thread, parse + match : ${parseAndMatch.toFixed(0)} pairs/s wall, ${parseAndMatchCpu.toFixed(0)} pairs per CPU-second`);
console.log(`single thread, match only    : ${matchOnly.toFixed(0)} pairs/s wall, ${matchOnlyCpu.toFixed(0)} pairs per CPU-second`);
console.log(`evaluateCsp inline           : ${(pairs.length / inline.seconds).toFixed(0)} predictions/s (incl. ground-truth parsing, validity)`);
console.log(`evaluateCsp ${workers} worker threads : ${(pairs.length / threaded.seconds).toFixed(0)} predictions/s (incl. worker start-up)`);
