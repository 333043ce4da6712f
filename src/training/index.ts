/** Public API of training (issue #5): configs, batching, the trainer, validation, curves. */
export {
  PRESETS, presetNames, resolveConfig, parseOverrides, validateConfig as validateTrainConfig,
  type TrainConfig, type ModelConfig, type OptimConfig, type ScheduleConfig, type ValidationConfig, type CheckpointConfig,
} from './config.js';
export { BatchSource, EpochBatcher, type CleanBatch, type EpochBatcherState } from './batches.js';
export { latticeFeaturesOf } from './lattice-features.js';
export { netConfigOf, netConfigOfTraining, TrainableModel, paramsFromTensors } from './model.js';
export {
  train, readCheckpoint, checkpointPaths, trainingRangeOf, CHECKPOINT_KIND, CHECKPOINT_VERSION,
  type TrainOptions, type TrainSummary, type CheckpointMeta, type TrainingRange, type BestRecord, type StopReason,
} from './trainer.js';
export { validationLoss, validationMatchRate, structureOfSplit, type CspPairScorer, type ValidationResult } from './validate.js';
export { benchmarkSteps, type StepTiming } from './benchmark.js';
export { readRunCurves, curvesSvg, type RunCurves } from './plot.js';
