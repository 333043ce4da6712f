/**
 * Server process for the load benchmark: `kldm serve` with the deterministic
 * fake predictor (default; measures the HTTP layer, the queue and the worker
 * threads) or, with --real, the real library. Prints its URL on stdout.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type * as AppModule from '../../src/server/app.js';
import type * as DefaultsModule from '../../src/server/default-services.js';
import type * as TestServicesModule from '../../src/server/testing/test-services.js';

// the compiled server (npm run build) when present: what `kldm serve` runs; else the sources through tsx
const dist = new URL('../../dist/server/', import.meta.url);
const base = existsSync(new URL('app.js', dist)) && !process.argv.includes('--src') ? dist : new URL('../../src/server/', import.meta.url);
const ext = base === dist ? 'js' : 'ts';
const { createKldmServer } = (await import(new URL(`app.${ext}`, base).href)) as typeof AppModule;
const { defaultServices } = (await import(new URL(`default-services.${ext}`, base).href)) as typeof DefaultsModule;
const { testServices } = (await import(new URL(`testing/test-services.${ext}`, base).href)) as typeof TestServicesModule;
console.error(`bench server: using ${base === dist ? 'dist/ (compiled)' : 'src/ (tsx)'}`);

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    real: { type: 'boolean', default: false },
    src: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    'max-queue': { type: 'string' },
  },
});
const limits: Record<string, number> = {};
if (values.concurrency) limits.concurrency = Number(values.concurrency);
if (values['max-queue']) limits.maxQueued = Number(values['max-queue']);
const app = createKldmServer({
  port: Number(values.port),
  services: values.real ? defaultServices() : testServices(),
  webRoot: null,
  limits,
});
const url = await app.listen();
console.log(`URL ${url}`);
const stop = (): void => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
