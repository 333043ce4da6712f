/**
 * The M3GNet-MP-2021.2.8-PES universal interatomic potential (docs/potential.md): load the
 * weights from an explicit path, then energy (eV), forces (eV/Å) and stress (eV/Å^3).
 */
export { loadM3GNet, m3gnetFromStateDict, M3GNET_MP_2021_2_8 } from './weights.js';
export type { M3GNetConfig, M3GNetModel } from './weights.js';
export { m3gnetStructure, m3gnetMolecule, m3gnetEvaluate, EV_PER_A3_TO_GPA } from './m3gnet.js';
export type { PotentialResult } from './m3gnet.js';
export { m3gnetBatch, type FastOptions } from './fast.js';
export { PassWorkspace } from './workspace.js';
export { readTorchStateDict, parseTorchStateDict } from './torchzip.js';
export type { TorchTensor, TorchDtype } from './torchzip.js';
export { loadShippedM3GNet, m3gnetPotential, M3GNET_ASSET } from './shipped.js';
export type { BatchPotential, PotentialEvaluation } from './types.js';
