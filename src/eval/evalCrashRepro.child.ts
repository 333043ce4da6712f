/**
 * Child process of csp.regression.test.ts (run WITHOUT --no-opt): evaluates the
 * prediction line that used to abort Node 20 with a V8 fatal error (see
 * cifReader.ts, "Why no WASM here") against the Perov-5 test split, several
 * times, so that TurboFan optimises (and deoptimises) the CIF reader on the way.
 * Prints one JSON line per repetition: {status, rms} of the prediction.
 * argv: predictions.jsonl repetitions
 */
import { evaluateCsp } from './csp.js';
import { loadCspGroundTruth, readPredictionsJsonl } from './predictionsFile.js';

const [path, repsArg] = process.argv.slice(2);
const reps = Number(repsArg ?? '3');
const gts = loadCspGroundTruth('perov_5', 'test');
const { predictions } = readPredictionsJsonl(path!);
for (let r = 0; r < reps; r++) {
  const report = await evaluateCsp(gts, predictions, { workers: 0 });
  const m = report.per_material.find((x) => x.material_id === predictions[0]!.materialId)!;
  process.stdout.write(`${JSON.stringify({ status: m.samples[0]!.status, rms: m.samples[0]!.rms })}\n`);
}
