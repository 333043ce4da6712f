/** Public API of the diffusion processes (spec §3-6). */
export { wrapPeriod, wrap1, wrap2pi, wrap1InPlace, wrap2piInPlace, mod1 } from './wrap.js';
export { centreInPlace, centred, centredNormal } from './centre.js';
export { wrappedNormalG, wrappedNormalGArray, WN_IMAGES } from './wrappedNormal.js';
export {
  TDM_HORIZON,
  internalTime,
  muU,
  sigmaU,
  kappa,
  sigmaR,
  unconditionalDisplacementVariance,
  displacementVelocityCovariance,
  tdmCoefficients,
  type TdmCoefficients,
} from './tdmKernel.js';
export {
  SCORE_NORM_GRID,
  scoreNormGridTime,
  wrappedNormalFisherInformation,
  computeScoreNormTable,
  scoreNormTable,
  roundHalfEven,
  scoreNormIndex,
  scoreNormAt,
  setScoreNormTable,
} from './scoreNorm.js';
export {
  drawTdmNoise,
  tdmForward,
  tdmForwardDetailed,
  velocityScore,
  tdmPrior,
  toNetworkScale,
  fromNetworkScale,
  type TdmParameterisation,
  type TdmNoise,
  type TdmTrainingSample,
  type TdmForwardDetail,
  type TdmState,
} from './tdm.js';
export {
  DEFAULT_VP_SCHEDULE,
  vpBeta,
  vpIntegratedBeta,
  vpAlpha,
  vpSigma,
  vpForward,
  vpTarget,
  vpScore,
  type VpSchedule,
  type VpParameterisation,
} from './latticeVp.js';
export {
  ANGLE_FEATURE_SCALE,
  angleToFeature,
  featureToAngle,
  statsForAtomCount,
  latticeToFeatures,
  featuresToLattice,
} from './latticeFeatures.js';
export {
  T_MIN,
  drawCspNoise,
  noisyCspBatchFrom,
  makeNoisyCspBatch,
  cspLoss,
  type CleanCspBatch,
  type CspObjectiveOptions,
  type NoisyCspBatch,
  type CspNoise,
  type CspLoss,
} from './loss.js';
export {
  MASK_EPS,
  NUM_TYPE_CLASSES,
  MASK_ID,
  maskKeepProbability,
  maskKeepProbabilityDerivative,
  maskLossWeight,
  unmaskProbability,
  maskTypes,
  maskingLoss,
  maskingReverseStep,
  unmaskRemaining,
  type MaskSchedule,
} from './masking.js';
export { numAnalogBits, oneHotTypes, argmaxTypes, analogBitsEncode, analogBitsDecode } from './continuousTypes.js';
export {
  TYPE_DIFFUSION_KINDS,
  DEFAULT_TYPE_DIFFUSION,
  isTypeDiffusionKind,
  typeStateWidth,
  dngNetworkFields,
  encodeTypes,
  timeOfAtoms,
  noisyTypesFrom,
  sliceNoisyTypes,
  typeLoss,
  type TypeDiffusionKind,
  type TypeDiffusionSpec,
  type NoisyTypes,
} from './typeDiffusion.js';
export { makeNoisyDngBatch, dngLoss, type NoisyDngBatch, type DngLoss } from './dngLoss.js';
