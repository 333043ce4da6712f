/**
 * `kldm serve`: the web page and HTTP API (issue #6). Binds to 127.0.0.1 unless
 * told otherwise, prints the URL, and shuts down cleanly on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { parseDuration } from '../../util/progress.js';
import { createKldmServer } from '../../server/app.js';
import { defaultServices } from '../../server/default-services.js';
import { defaultLimits, type ServerLimits } from '../../server/limits.js';

const usage = `Usage: kldm serve [options]

Serves the kldm web page and its JSON API (see /api/openapi.json): crystal structure prediction
(POST /api/predict) and de-novo generation with the DNG models (POST /api/generate), one job queue.

Options:
  --host <addr>          interface to bind (default 127.0.0.1; use 0.0.0.0 to expose it, at your own risk)
  --port <n>             TCP port (default 8080; 0 picks a free one)
  --concurrency <n>      jobs (predictions, generations) running at once = long-lived worker processes (default: one per CPU core)
  --max-queue <n>        jobs waiting before new ones get 429 (default 16)
  --max-atoms <n>        atoms per cell (default 64)
  --max-samples <n>      samples (or generated crystals) per job, n (default 20)
  --max-steps <n>        sampler steps (default 2000)
  --job-timeout <dur>    run-time cap per job, e.g. 900s, 15m (default 15m)
  --result-ttl <dur>     how long finished results are kept (default 1h)
`;

function positiveInt(flag: string, raw: string | undefined, min = 1): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new InputError(`${flag} must be an integer >= ${min}, got "${raw}"`);
  return Number(raw);
}

function seconds(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseDuration(raw);
  } catch (err) {
    throw new InputError(`${flag}: ${(err as Error).message}`);
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'web page and HTTP API: predict crystals in the browser, watch the denoising',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
        concurrency: { type: 'string' },
        'max-queue': { type: 'string' },
        'max-atoms': { type: 'string' },
        'max-samples': { type: 'string' },
        'max-steps': { type: 'string' },
        'job-timeout': { type: 'string' },
        'result-ttl': { type: 'string' },
      },
    });
    const port = positiveInt('--port', values.port, 0)!;
    if (port > 65535) throw new InputError(`--port must be at most 65535, got ${port}`);
    const limits: Partial<ServerLimits> = {};
    const set = <K extends keyof ServerLimits>(key: K, v: ServerLimits[K] | undefined): void => {
      if (v !== undefined) limits[key] = v;
    };
    set('concurrency', positiveInt('--concurrency', values.concurrency));
    set('maxQueued', positiveInt('--max-queue', values['max-queue'], 0));
    set('maxAtoms', positiveInt('--max-atoms', values['max-atoms']));
    set('maxN', positiveInt('--max-samples', values['max-samples']));
    set('maxSteps', positiveInt('--max-steps', values['max-steps']));
    const timeout = seconds('--job-timeout', values['job-timeout']);
    if (timeout !== undefined) limits.maxJobMs = timeout * 1000;
    const ttl = seconds('--result-ttl', values['result-ttl']);
    if (ttl !== undefined) limits.resultTtlMs = ttl * 1000;

    const app = createKldmServer({ host: values.host, port, limits, services: defaultServices() });
    let url: string;
    try {
      url = await app.listen();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE') throw new InputError(`port ${port} on ${values.host} is already in use (try --port 0)`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new InputError(`cannot bind to host "${values.host}"`);
      throw err;
    }
    const eff = { ...defaultLimits(), ...limits };
    console.log(`kldm serve: listening on ${url}/  (API: ${url}/api/openapi.json)`);
    console.log(
      `kldm serve: ${eff.concurrency} job(s) at once, queue ${eff.maxQueued}, <= ${eff.maxAtoms} atoms/cell, n <= ${eff.maxN}, steps <= ${eff.maxSteps}; Ctrl-C stops`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        console.log('kldm serve: shutting down');
        void app.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
