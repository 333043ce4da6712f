/** Every fuzz target, in the order `npm run fuzz` runs them. */
import type { FuzzTarget } from '../harness.js';
import { formulaTarget } from './formula.js';
import { cifEvalTarget, cifTarget } from './cif.js';
import { extxyzTarget, poscarTarget, structureJsonTarget } from './structureFormats.js';
import { checkpointFuzzTarget, checkpointResignedFuzzTarget, weightsFuzzTarget, weightsResignedFuzzTarget } from './tensorFiles.js';
import { csvFuzzTarget } from './csv.js';
import { predictionsFuzzTarget } from './predictions.js';
import { httpFuzzTarget } from './http.js';

export const FUZZ_TARGETS: readonly FuzzTarget<any>[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  formulaTarget,
  cifTarget,
  cifEvalTarget,
  poscarTarget,
  extxyzTarget,
  structureJsonTarget,
  weightsFuzzTarget,
  weightsResignedFuzzTarget,
  checkpointFuzzTarget,
  checkpointResignedFuzzTarget,
  csvFuzzTarget,
  predictionsFuzzTarget,
  httpFuzzTarget,
];

export function fuzzTargetByName(name: string): FuzzTarget<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const t = FUZZ_TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown fuzz target "${name}" (targets: ${FUZZ_TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
