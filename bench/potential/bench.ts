/**
 * Throughput of the M3GNet potential (energy + forces + stress per structure) on the 12 MP-20
 * structures of bench/reference/fixtures/m3gnet_mp20.json: the float64 TypeScript reference one
 * structure at a time, and the batched kernel path (native float32 when built) on all 12 at once,
 * with its largest deviation from the reference. Usage:
 *   npx tsx bench/potential/bench.ts [path/to/state.pt] [--repeat N]
 * Prints one JSON line per path: structures per wall second and per CPU second (process CPU time,
 * all threads: the figure that survives a shared, loaded machine), atoms, bonds, triples.
 * Run with KLDM_THREADS=1 for a single-core figure.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import type { Matrix3 } from '../../src/crystal/types.js';
import { loadM3GNet, m3gnetStructure, type PotentialResult } from '../../src/potential/index.js';
import { m3gnetBatch } from '../../src/potential/fast.js';
import { getKernels } from '../../src/engine/select.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const repeatAt = args.indexOf('--repeat');
const repeat = repeatAt >= 0 ? Number(args[repeatAt + 1]) : 2;
const weights = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--repeat') ?? join(here, '..', '..', '..', 'shared', 'reference', 'm3gnet', 'state.pt');
const fixture = JSON.parse(readFileSync(join(here, '..', 'reference', 'fixtures', 'm3gnet_mp20.json'), 'utf8')) as {
  structures: { lattice: number[]; species: string[]; frac: number[] }[];
};
const model = loadM3GNet(weights);
const structures = fixture.structures.map((s) => ({ lattice: s.lattice as Matrix3, species: s.species, frac: Float64Array.from(s.frac) }));
m3gnetStructure(model, structures[0]!); // warm-up
let atoms = 0, bonds = 0, triples = 0;
let reference: PotentialResult[] = [];
let c0 = process.cpuUsage();
let t0 = performance.now();
for (let r = 0; r < repeat; r++) {
  reference = [];
  for (const s of structures) {
    const out = m3gnetStructure(model, s);
    reference.push(out);
    atoms += s.species.length;
    bonds += out.nBonds;
    triples += out.nTriples;
  }
}
let seconds = (performance.now() - t0) / 1000;
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
let cpu = cpuSeconds(process.cpuUsage(c0));
const n = repeat * structures.length;
const report = (path: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({
  path,
  structures: n,
  structuresPerSecond: +(n / seconds).toFixed(3),
  structuresPerCpuSecond: +(n / cpu).toFixed(3),
  atomsPerSecond: +(atoms / seconds).toFixed(1),
  meanAtoms: +(atoms / n).toFixed(1),
  meanBonds: +(bonds / n).toFixed(0),
  meanTriples: +(triples / n).toFixed(0),
  loadAverage1m: +loadavg()[0]!.toFixed(1),
  ...extra,
}));
report('float64 reference (TypeScript), one structure at a time');

const kernels = getKernels();
m3gnetBatch(model, structures.slice(0, 1), { kernels }); // warm-up
let fast: PotentialResult[] = [];
c0 = process.cpuUsage();
t0 = performance.now();
for (let r = 0; r < repeat; r++) fast = m3gnetBatch(model, structures, { kernels });
seconds = (performance.now() - t0) / 1000;
cpu = cpuSeconds(process.cpuUsage(c0));
let dE = 0, dF = 0;
fast.forEach((f, k) => {
  const want = reference[k]!;
  dE = Math.max(dE, Math.abs(f.energy - want.energy) / want.forces.length * 3);
  want.forces.forEach((x, q) => (dF = Math.max(dF, Math.abs(f.forces[q]! - x))));
});
report(`batched, ${kernels.name} kernels (${kernels.name === 'native' ? 'float32' : 'float32 on TypeScript loops'}), batch of ${structures.length}`,
  { maxEnergyDeviationEvPerAtom: +dE.toExponential(2), maxForceDeviationEvPerA: +dF.toExponential(2) });
