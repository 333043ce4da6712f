/** Public API of the samplers (spec §7). */
export {
  timeGrid,
  CspSampler,
  sampleCsp,
  sampleCspSync,
  type SamplerMethod,
  type SamplerOptions,
  type ResolvedSamplerOptions,
  type CspSamplingBatch,
  type TrajectoryFrame,
  type SamplerResult,
} from './sampler.js';
export { decodeCrystals, decodeSamplerResult, type DecodedCrystal } from './decode.js';
export {
  tdmMovePositions,
  tdmEmStep,
  tdmPredictorStep,
  tdmCorrectorStep,
  correctorStepSizes,
  langevinCorrectorStep,
  atomGroupOffsets,
  crystalGroupOffsets,
  vpEmStep,
  vpPredictorStep,
} from './steps.js';
export { TypeSampler, allElementClasses, allowedClassesOf, type TypeSamplerOptions } from './typeSampler.js';
export {
  atomCountHistogram, parseAtomCountPrior, priorSupport, checkPriorAgainstStats, drawAtomCounts,
  type AtomCountHistogram, type AtomCountPrior,
} from './atomCountPrior.js';
