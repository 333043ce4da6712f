import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { generateCommand } from './generate.js';
import { train } from '../../training/trainer.js';
import { miniPerov5, tinyConfig } from '../../training/testFixtures.js';
import { exportModel } from '../../predict/registry.js';

const userError = (pattern: RegExp) => (e: unknown): boolean => e instanceof InputError && pattern.test(e.message);

test('kldm generate rejects bad arguments with one clear message', async () => {
  await assert.rejects(generateCommand.run(['--n', '3', '--out', 'x.jsonl']), userError(/exactly one of --model <name>/));
  await assert.rejects(generateCommand.run(['--model', 'm', '--n', '3']), userError(/--out <file.jsonl \| dir> is required/));
  await assert.rejects(generateCommand.run(['--model', 'm', '--out', 'x.jsonl', '--sampler', 'ode']), userError(/--sampler must be pc or em/));
  await assert.rejects(generateCommand.run(['--model', 'm', '--out', 'x.jsonl', '--trajectory']), userError(/--trajectory needs --out <dir>/));
  await assert.rejects(generateCommand.run(['--model', 'm', '--out', 'x.jsonl', '--atoms', '4', '--atoms-range', '2-5']), userError(/at most one of --atoms/));
  await assert.rejects(generateCommand.run(['--model', 'm', '--out', 'x.jsonl', '--elements', ',']), userError(/--elements: give element symbols/));
  await assert.rejects(generateCommand.run(['--model', 'no-such-model', '--out', join(tmpdir(), 'x.jsonl')]), userError(/unknown model "no-such-model"/));
});

test('kldm generate with a DNG model: JSONL resumable, a folder with structures and type trajectories; a CSP model is refused', async () => {
  const models = mkdtempSync(join(tmpdir(), 'kldm-gen-models-'));
  const data = miniPerov5();
  const runDirs: Record<string, string> = {};
  for (const task of ['dng', 'csp'] as const) {
    const runDir = mkdtempSync(join(tmpdir(), 'kldm-gen-run-'));
    runDirs[task] = runDir;
    await train({ dataset: 'perov_5', config: tinyConfig({ task, optim: { batchSize: 8 }, validation: { everyEpochs: 0 } }), runDir, maxSteps: 4, train: data.train, stats: data.stats, statusStream: null });
    exportModel(join(runDir, 'last.ckpt'), { name: `gen-${task}`, description: 'test', root: models });
  }
  const prev = process.env['KLDM_MODELS_DIR'];
  process.env['KLDM_MODELS_DIR'] = models;
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => void printed.push(a.join(' '));
  try {
    const out = mkdtempSync(join(tmpdir(), 'kldm-gen-out-'));
    const file = join(out, 'gen.jsonl');
    assert.equal(await generateCommand.run(['--model', 'gen-dng', '--n', '3', '--steps', '5', '--out', file, '--quiet']), 0);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 3);
    assert.equal(await generateCommand.run(['--model', 'gen-dng', '--n', '5', '--steps', '5', '--out', file, '--quiet']), 0);
    assert.match(printed.join('\n'), /5\/5 structures \(3 already there, 2 new/);
    const dir = join(out, 'folder');
    assert.equal(await generateCommand.run(['--model', 'gen-dng', '--n', '2', '--steps', '4', '--elements', 'Sr,Ti,O', '--out', dir, '--trajectory', '--stride', '2', '--quiet']), 0);
    assert.deepEqual(readdirSync(dir).sort(), ['gen-dng-s42-0.cif', 'gen-dng-s42-0_trajectory.extxyz', 'gen-dng-s42-1.cif', 'gen-dng-s42-1_trajectory.extxyz', 'generated.jsonl']);
    const traj = readFileSync(join(dir, 'gen-dng-s42-0_trajectory.extxyz'), 'utf8').split('\n');
    assert.equal(traj.filter((l) => l.startsWith('Lattice=')).length, 3); // steps 0, 2, 4
    assert.match(traj[2]!, /^X /); // the prior: every type masked
    for (const l of readFileSync(join(dir, 'generated.jsonl'), 'utf8').trim().split('\n')) {
      assert.match((JSON.parse(l) as { composition: string }).composition, /^((Sr|Ti|O)\d*)+$/);
    }
    const fromCkpt = join(out, 'ckpt.jsonl');
    assert.equal(await generateCommand.run(['--checkpoint', join(runDirs['dng']!, 'last.ckpt'), '--n', '2', '--steps', '3', '--out', fromCkpt, '--quiet']), 0);
    assert.equal(readFileSync(fromCkpt, 'utf8').trim().split('\n').length, 2);
    await assert.rejects(generateCommand.run(['--checkpoint', join(runDirs['csp']!, 'last.ckpt'), '--out', join(out, 'c.jsonl')]), userError(/crystal-structure-prediction checkpoint/));
    await assert.rejects(generateCommand.run(['--model', 'gen-csp', '--n', '1', '--out', join(out, 'csp.jsonl')]), userError(/crystal-structure-prediction model/));
  } finally {
    console.log = log;
    if (prev === undefined) delete process.env['KLDM_MODELS_DIR'];
    else process.env['KLDM_MODELS_DIR'] = prev;
  }
});
