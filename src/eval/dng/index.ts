/** Public API of the DNG evaluation (spec §10.1): fingerprints, coverage, distances, uniqueness/novelty. */
export { evaluateDng, sampleIndices, type DngOptions, type DngReport, type DngStructureReport, type GeneratedInput } from './evaluate.js';
export { readGeneratedJsonl, parseGeneratedJsonl, type GeneratedFile } from './generatedFile.js';
export { structureOpsFingerprint, siteOpsFingerprint, OPS_FEATURE_LABELS, OPS_FINGERPRINT_LENGTH } from './crystalNNFingerprint.js';
export { crystalNNData, type CrystalNNData, type CrystalNNNeighbour } from './crystalNN.js';
export { voronoiNeighbours, type VoronoiNeighbour } from './voronoiNN.js';
export { loadMagpie, magpieFingerprint, standardiseMagpie, MAGPIE_PROPERTIES, MAGPIE_STATS, type MagpieTables } from './magpie.js';
export { computeCoverage, type CoverageCutoffs, type CoverageResult, type Fingerprints } from './coverage.js';
export { wasserstein1 } from './wasserstein.js';
export { densityGcm3, distinctElements } from './structureStats.js';
export { findDuplicates, ReferenceIndex, reducedCompositionKey, DEFAULT_DUPLICATE_MATCHER } from './duplicates.js';
export { evaluateCrystal, type CrystalRecord } from './crystalRecord.js';
export { loadReferenceSet, type ReferenceSet } from './referenceSet.js';
