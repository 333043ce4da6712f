/**
 * Regression: `kldm evaluate csp --dataset perov_5 --split test --predictions
 * fixtures/eval_crash_repro.jsonl --workers 0` aborted Node 20 with a V8 fatal
 * error (SIGTRAP, "unreachable code" in Deoptimizer::DoComputeBuiltinContinuation)
 * once TurboFan had optimised the CIF reader, which then inlined a JS→Wasm call
 * returning an externref (cause: cifReader.ts header). The evaluation runs in a
 * child process with the default optimiser settings (no --no-opt), repeated so
 * that the reader is optimised and then deoptimised by this line; the old code
 * died in the first repetition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { matchCifs } from './match.js';
import { loadCspGroundTruth, readPredictionsJsonl } from './predictionsFile.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/eval_crash_repro.jsonl', import.meta.url));
const CHILD = fileURLToPath(new URL('./evalCrashRepro.child.ts', import.meta.url));
const REPETITIONS = 4;

test('evaluate csp on the prediction that crashed V8: no abort, same answer every time as a single unoptimised match', () => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the child must run with the optimiser on, whatever the caller set
  // the limit only stops a hung child; it is generous because a loaded machine stretches the wall clock
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, FIXTURE, String(REPETITIONS)], { encoding: 'utf8', env, timeout: 300_000 });
  assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr.slice(0, 400)}`);
  assert.equal(r.status, 0, r.stderr.slice(0, 400));
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; rms: number | null });
  assert.equal(lines.length, REPETITIONS);

  // the same pair matched once in this process (cold code): the reference answer
  const pred = readPredictionsJsonl(FIXTURE).predictions[0]!;
  const gt = loadCspGroundTruth('perov_5', 'test').find((g) => g.materialId === pred.materialId)!;
  const ref = matchCifs(pred.cif!, gt.cif!);
  for (const l of lines) {
    assert.equal(l.status, ref.match ? 'matched' : 'unmatched');
    assert.equal(l.rms, ref.rms);
  }
});
