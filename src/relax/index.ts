export { relaxStructures, relaxStructuresAsync, type RelaxOptions, type RelaxResult, type RelaxFrame } from './relax.js';
export { ExpCellFilter, maxRowNorm } from './cellFilter.js';
export { Fire, FIRE_DEFAULTS, type FireOptions } from './fire.js';
