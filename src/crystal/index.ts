/**
 * Crystal core public API: elements, lattice math, formulas, structures,
 * Niggli reduction and structure file formats.
 */
export type { Matrix3, LatticeParams, Structure } from './types.js';
export { ELEMENTS, MAX_Z, atomicNumber, elementBySymbol, elementByZ, elementSymbol, isElementSymbol, type ElementInfo } from './elements.js';
export {
  fromParameters, toParameters, volume, volumeFromParameters, determinant, reciprocal, fracToCart, cartToFrac, wrap01, wrapFrac,
  MinimumImage, minimumImageDistance, distanceMatrix, minInteratomicDistance, shortestLatticeVector, validateParameters,
} from './lattice.js';
export {
  parseFormula, formatFormula, reducedFormula, reducedComposition, formulaUnits, totalAtoms, compositionOf, expandSites, DEFAULT_MAX_ATOMS,
  type Composition, type ParseFormulaOptions,
} from './composition.js';
export {
  makeStructure, structureFromNumbers, numSites, atomicNumbers, latticeParameters, wrapToUnitCell, standardOrientation, niggliReduce,
  isNiggliReduced, preprocessStructure, type NiggliReduction,
} from './structure.js';
export { niggliReduceLattice, type NiggliLattice } from './niggli.js';
export { spaceGroupOperations, type SymmetryOperation, type SpaceGroupQuery } from './spacegroup.js';
export {
  readCif, writeCif, readPoscar, writePoscar, writeExtxyz, readJson, writeJson, structureToJson, parseCifBlocks, parseSymmetryOperation,
  readStructureFile, parseStructure, formatStructure, formatFromPath, STRUCTURE_FORMATS, type StructureFormat,
} from './io/index.js';
export { ferrox, type FerroxModule } from './ferrox.js';
