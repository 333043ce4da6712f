/** Public API of the CSP evaluation (spec §9): pymatgen-equivalent matching, validity, MR/RMSE. */
export { matchStructures, matchCifs, initMatching, type MatchResult, type MatchOptions, type MatcherOptions, type NoMatchStage } from './match.js';
export { evaluateCsp, aggregateCsp, type CspGroundTruth, type CspPredictionInput, type EvaluateCspOptions, type CspReport, type CspRunMetrics, type MaterialCspResult, type SampleOutcome, type UnmatchedCause, type UnmatchedCauses, type AtomCountMetrics } from './csp.js';
export { checkValidity, structuralValidity, compositionValidity, type Validity, type ValidityProtocol } from './validity.js';
export { smactValid } from './smact.js';
export { readCifForMatching, sortSitesLikePymatgen } from './cifReader.js';
export { readPredictionsJsonl, loadCspGroundTruth, type PredictionsFile } from './predictionsFile.js';
export { loadReferencePairs, scorePairs, formatPairScore, type ReferencePair, type PairScore, type CategoryScore, type PairMatcher } from './pairScoring.js';
export { getRmsDist, reduceForMatching, type RmsDist, type MatchDiagnosis } from './matcher/structureMatcher.js';
export * from './dng/index.js';
