/**
 * Throughput of `kldm evaluate dng` (spec §10.1) on a generated-like set: n structures of a dataset's
 * validation split, a quarter kept exactly (they duplicate each other in pairs and are not novel
 * w.r.t. nothing in particular) and the rest with Gaussian noise on the fractional coordinates
 * (σ = 0.02) and the lattice (σ = 2 %), all written as CIF. Reports CPU and wall seconds per stage
 * (generated fingerprints, reference fingerprints — cached after the first run — coverage/W1, matching).
 *   npx tsx bench/eval/dng-throughput.ts --dataset mp_20 --n 1000 --magpie ../shared/reference/magpie
 */
import { parseArgs } from 'node:util';
import type { Matrix3, Structure } from '../../src/crystal/types.js';
import { writeCif } from '../../src/crystal/io/cif.js';
import { readSplitSource } from '../../src/data/source.js';
import { Rng } from '../../src/util/rng.js';
import { loadFerrox, readCifForMatching } from '../../src/eval/cifReader.js';
import { evaluateDng, type GeneratedInput } from '../../src/eval/dng/evaluate.js';
import { loadMagpie } from '../../src/eval/dng/magpie.js';
import { formatDngReport } from '../../src/cli/commands/evaluateDng.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'mp_20' },
    n: { type: 'string', default: '1000' },
    magpie: { type: 'string', default: '../shared/reference/magpie' },
    seed: { type: 'string', default: '0' },
  },
});
const n = Number(values.n);
await loadFerrox();
const rng = new Rng(Number(values.seed));
const src = readSplitSource(values.dataset!, 'val');
const generated: GeneratedInput[] = [];
for (let i = 0; i < n; i++) {
  const k = i % src.cifs.length;
  const s = readCifForMatching(src.cifs[k]!);
  let out: Structure = s;
  if (i % 4 !== 0) {
    const frac = Float64Array.from(s.frac, (x) => x + 0.02 * rng.normal());
    const lattice = s.lattice.map((x) => x * (1 + 0.02 * rng.normal())) as Matrix3;
    out = { lattice, species: s.species, frac };
  }
  generated.push({ id: `g${i}`, cif: writeCif(out) });
}

const stages = new Map<string, { cpu0: NodeJS.CpuUsage; t0: number; cpu?: number; wall?: number; total: number }>();
const report = await evaluateDng(generated, {
  dataset: values.dataset!,
  magpie: loadMagpie(values.magpie!),
  onProgress: (stage, done, total) => {
    if (!stages.has(stage)) stages.set(stage, { cpu0: process.cpuUsage(), t0: performance.now(), total });
    const st = stages.get(stage)!;
    if (done === total) {
      const c = process.cpuUsage(st.cpu0);
      st.cpu = (c.user + c.system) / 1e6;
      st.wall = (performance.now() - st.t0) / 1000;
    }
  },
});
console.log(formatDngReport(report));
for (const [stage, st] of stages) console.log(`stage ${stage}: ${st.total} structures, CPU ${st.cpu?.toFixed(1)} s, wall ${st.wall?.toFixed(1)} s`);
console.log(`total wall ${report.seconds.toFixed(1)} s`);
