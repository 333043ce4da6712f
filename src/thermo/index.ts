export { ConvexHull, type HullEntry, type HullAnswer } from './hull.js';
export { mp20HullEntries } from './mp20Hull.js';
export { mp2020Correction, oxideType, sulfideType, MP2020_ANION, MP2020_U, type Mp2020Result, type Mp2020Adjustment } from './mp2020.js';
export { StabilityScorer, elementalReferences, computeElementalReferences, mp20ElementalPhases, type ElementalReferences, type StabilityResult } from './stability.js';
