import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../util/rng.js';
import { TrainableModel, netConfigOf } from '../training/model.js';
import { tinyConfig, miniPerov5 } from '../training/testFixtures.js';
import type { TypeDiffusionKind } from '../diffusion/typeDiffusion.js';
import { readCif } from '../crystal/io/cif.js';
import { generateWithNetwork, type DngModelInfo } from './generate.js';

const data = miniPerov5();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kldm-gen-'));

/** A freshly initialised tiny DNG network (untrained: these tests check the machinery, not quality). */
function tinyDng(kind: TypeDiffusionKind): { net: TrainableModel['net']; info: DngModelInfo } {
  const config = tinyConfig();
  const types = { kind, maskSchedule: 'linear' as const, simpleLoss: false };
  const model = TrainableModel.fresh(netConfigOf(config.model, types), config.optim, 0.999, new Rng(1));
  return { net: model.net, info: { name: `tiny-${kind}`, stats: data.stats, types, atomCounts: { 5: 32 }, trainingElements: [8, 22, 38] } };
}

const lines = (path: string): Array<Record<string, unknown>> => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('generate writes one JSON line per structure (index, id, num_atoms, composition, validity, cif) and is deterministic by seed', async () => {
  const { net, info } = tinyDng('masking');
  const dir = tmp();
  const a = join(dir, 'a.jsonl');
  const b = join(dir, 'b.jsonl');
  const r = await generateWithNetwork(net, info, { n: 5, steps: 8, seed: 3, outPath: a });
  assert.equal(r.written, 5);
  await generateWithNetwork(net, info, { n: 5, steps: 8, seed: 3, outPath: b });
  assert.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'));
  const c = await generateWithNetwork(net, info, { n: 5, steps: 8, seed: 4 });
  assert.notDeepEqual(c.samples.map((s) => s.composition + s.structure.frac.join()), lines(a).map((l) => String(l['composition'])));
  const first = lines(a)[0]!;
  assert.deepEqual(Object.keys(first).sort(), ['cif', 'comp_valid', 'composition', 'id', 'index', 'model', 'num_atoms', 'seed', 'struct_valid']);
  assert.equal(first['id'], 'tiny-masking-s3-0');
  assert.equal(first['num_atoms'], 5);
  assert.equal(readCif(String(first['cif'])).species.length, 5);
});

test('an interrupted generation resumes where it stopped and ends with the same file (batches of 2)', async () => {
  const { net, info } = tinyDng('bits');
  const dir = tmp();
  const straight = join(dir, 'straight.jsonl');
  await generateWithNetwork(net, info, { n: 7, steps: 6, seed: 9, batchSize: 2, outPath: straight });
  const full = readFileSync(straight, 'utf8').split('\n');
  const resumed = join(dir, 'resumed.jsonl');
  // the first two batches were written, then a kill tore the next line in half
  writeFileSync(resumed, full.slice(0, 4).join('\n') + '\n');
  appendFileSync(resumed, full[4]!.slice(0, 40));
  const r = await generateWithNetwork(net, info, { n: 7, steps: 6, seed: 9, batchSize: 2, outPath: resumed });
  assert.equal(r.alreadyDone, 4);
  assert.equal(r.written, 3);
  assert.equal(readFileSync(resumed, 'utf8'), readFileSync(straight, 'utf8'));
  await assert.rejects(generateWithNetwork(net, info, { n: 7, steps: 6, seed: 10, outPath: resumed }), /seed 9; this request is model tiny-bits seed 10/);
  // killed in the middle of a batch (3 of 7 lines: the second batch half written): the same file again
  const mid = join(dir, 'mid.jsonl');
  writeFileSync(mid, full.slice(0, 3).join('\n') + '\n' + full[3]!.slice(0, 25));
  await generateWithNetwork(net, info, { n: 7, steps: 6, seed: 9, batchSize: 2, outPath: mid });
  assert.equal(readFileSync(mid, 'utf8'), readFileSync(straight, 'utf8'));
  // planned batches run alone (a queue shard) give the same lines as the whole run
  const shardLines: string[] = [];
  for (const first of [2, 0, 3, 1]) await generateWithNetwork(net, info, { n: 7, steps: 6, seed: 9, batchSize: 2, batches: { first, count: 1 }, onLines: (l) => shardLines.push(`${first}:${l.join('\n')}`) });
  const byBatch = new Map(shardLines.map((x) => [Number(x.split(':')[0]), x.slice(x.indexOf(':') + 1)]));
  assert.equal([0, 1, 2, 3].map((b) => byBatch.get(b)).join('\n') + '\n', readFileSync(straight, 'utf8'));
});

test('--elements: every variant generates only the allowed elements; --formula: fixed composition; bad options are rejected', async () => {
  for (const kind of ['masking', 'onehot', 'bits'] as const) {
    const { net, info } = tinyDng(kind);
    const r = await generateWithNetwork(net, info, { n: 12, steps: 10, seed: 1, sampler: 'em', elements: ['Li', 'Fe', 'P', 'O'] });
    for (const s of r.samples) for (const e of s.structure.species) assert.ok(['Li', 'Fe', 'P', 'O'].includes(e), `${kind}: ${e}`);
    assert.ok(r.warnings.some((w) => /never saw Li, P, Fe/.test(w)), r.warnings.join());
    const f = await generateWithNetwork(net, info, { n: 2, steps: 5, formula: 'SrTiO3', trajectory: true, trajectoryStride: 5 });
    for (const s of f.samples) {
      assert.deepEqual(s.structure.species, ['Sr', 'Ti', 'O', 'O', 'O']);
      assert.equal(s.trajectory!.length, 2);
      assert.deepEqual(s.trajectory![0]!.species, ['Sr', 'Ti', 'O', 'O', 'O']);
    }
  }
  const { net, info } = tinyDng('masking');
  const t = await generateWithNetwork(net, info, { n: 1, steps: 4, trajectory: true, trajectoryStride: 2 });
  assert.deepEqual(t.samples[0]!.trajectory![0]!.species, ['X', 'X', 'X', 'X', 'X']);
  await assert.rejects(generateWithNetwork(net, info, { atoms: 6 }), /cannot generate cells of 6 atoms/);
  await assert.rejects(generateWithNetwork(net, info, { elements: ['Qq'] }), /unknown element symbol "Qq"/);
  await assert.rejects(generateWithNetwork(net, info, { formula: 'SrTiO3', elements: ['O'] }), /formula fixes the composition/);
  await assert.rejects(generateWithNetwork(net, info, { n: 0 }), /n \(number of structures\)/);
});

test('onStep counts sampler steps over the batches; onFrame delivers the trajectory frames as they are recorded', async () => {
  const { net, info } = tinyDng('masking');
  const steps: { step: number; total: number }[] = [];
  const live = new Map<number, unknown[]>();
  // 3 structures in batches of 2: two batches of 6 steps
  const r = await generateWithNetwork(net, info, {
    n: 3, steps: 6, seed: 2, batchSize: 2, trajectory: true, trajectoryStride: 3,
    onStep: (p) => steps.push(p),
    onFrame: (index, frame) => live.set(index, [...(live.get(index) ?? []), frame]),
  });
  assert.deepEqual(steps.map((p) => p.step), Array.from({ length: 12 }, (_, i) => i + 1));
  assert.ok(steps.every((p) => p.total === 12));
  assert.deepEqual([...live.keys()].sort(), [0, 1, 2]);
  for (const s of r.samples) assert.deepEqual(live.get(s.index), s.trajectory, `structure ${s.index}: live frames = returned trajectory`);
  assert.equal(r.samples[0]!.trajectory!.length, 3); // the prior, step 3, step 6
});
