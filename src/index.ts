/**
 * kldm library API. Each domain folder exports its public pieces here; the CLI
 * and the web server are thin shells over these.
 */
export { Rng } from './util/rng.js';
export { KldmError, InputError } from './util/errors.js';
export * from './crystal/index.js';
export * from './assets/index.js';
export * from './data/index.js';
export * from './eval/index.js';
export * from './engine/index.js';
export * from './network/index.js';
export * from './network/types.js';
export * from './diffusion/index.js';
export * from './sampling/index.js';
export * from './training/index.js';
export * from './predict/index.js';
export { createKldmServer, defaultServices, defaultLimits, WorkerPool, type KldmServer, type KldmServerOptions, type ServerLimits, type Services } from './server/index.js';
export * from './potential/index.js';
export * from './relax/index.js';
export * from './thermo/index.js';
