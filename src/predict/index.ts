/** Public API of prediction (issue #5): shipped models, predictStructures, split sampling. */
export type {
  PredictOptions, PredictResult, PredictedStructure, SamplerName, TrajectoryFrame as PredictTrajectoryFrame,
} from './types.js';
export { predictStructures, predictWithNetwork, describeStructure, PREDICT_LIMITS } from './predict.js';
export {
  listModels, getModel, chooseModel, loadModelNetwork, exportModel, modelsRoot, rangeWarnings, coversAtomCount,
  type ModelManifest, type ModelEntry, type ExportModelOptions,
} from './registry.js';
export { sampleSplit, type SampleTarget, type SampleSplitOptions, type SampleSplitSummary } from './sampleSplit.js';
export { trajectoryToExtxyz } from './trajectory.js';
export { modelCardMarkdown, writeModelCard, readCspReport, readEvalReport, type CardEvaluation, type CspReportSummary, type DngReportSummary } from './modelCard.js';
export {
  generateStructures, generateWithNetwork, dngModelInfo, GENERATE_LIMITS,
  type GenerateOptions, type GenerateResult, type GeneratedStructure, type DngModelInfo,
} from './generate.js';
export { dngTypeDiffusion } from './registry.js';
