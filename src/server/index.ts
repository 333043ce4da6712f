/** Public surface of the web server (issue #6). */
export { createKldmServer, type KldmServer, type KldmServerOptions } from './app.js';
export { defaultServices, readShippedModels, type DefaultServiceOptions } from './default-services.js';
export { WorkerPool, type WorkerPoolOptions } from './worker-pool.js';
export { defaultLimits, type ServerLimits } from './limits.js';
export { HttpError } from './http-error.js';
export type * from './services.js';
