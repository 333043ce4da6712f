/**
 * The kldm HTTP server (issue #6): a JSON API over the prediction, generation (issue #14), matching
 * and dataset functions, plus the bundled page. `createKldmServer` wires the
 * injected services (default: the real library) to node:http.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { InputError, KldmError, errorMessage } from '../util/errors.js';
import { HttpError, badField, notFound } from './http-error.js';
import { defaultLimits, type ServerLimits } from './limits.js';
import { Router, type RouteContext } from './router.js';
import { readJsonBody } from './body.js';
import { JobManager, etaSeconds, isFinished, type Job } from './jobs.js';
import { isGenerateRequest, type Services, type StructureFormat } from './services.js';
import {
  SAFE_NAME,
  expectObject,
  intQuery,
  parseFormat,
  parseGenerateRequest,
  parsePredictRequest,
  rejectUnknownFields,
  stringField,
} from './validate.js';
import { resultFileBase, resultFullJson, resultSummaryJson, sampleTitle, structureToJson } from './structure-json.js';
import { defaultWebRoot, loadStaticFiles, type StaticFile } from './static-files.js';
import { openApiDocument } from './openapi.js';
import type { Structure } from '../crystal/types.js';

export interface KldmServerOptions {
  host?: string;
  port?: number;
  limits?: Partial<ServerLimits>;
  /** services to replace (the rest default to the real library) */
  services: Services;
  /** folder of the built page; null serves no page; default dist/web */
  webRoot?: string | null;
  /** error log (default console.error) */
  log?: (line: string) => void;
}

export interface KldmServer {
  readonly server: Server;
  readonly jobs: JobManager;
  readonly limits: ServerLimits;
  /** starts listening; resolves to the base URL, e.g. http://127.0.0.1:8080 */
  listen(): Promise<string>;
  close(): Promise<void>;
}

function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // try the next location (src/server vs dist/server)
    }
  }
  return 'unknown';
}

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

/** Maps a user-input error from a library call onto a 400 naming `field`. */
async function asField<T>(field: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof InputError) throw badField(field, errorMessage(err));
    throw err;
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

export function createKldmServer(options: KldmServerOptions): KldmServer {
  const limits: ServerLimits = { ...defaultLimits(), ...options.limits };
  const services = options.services;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => console.error(line));
  const jobs = new JobManager(services.runner, limits);
  const files: Map<string, StaticFile> = loadStaticFiles(
    options.webRoot === undefined ? defaultWebRoot() : options.webRoot,
  );
  const version = packageVersion();
  const started = Date.now();
  let openStreams = 0;
  // event-loop delay of the HTTP thread: the measure of "the server stays responsive"
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const getJob = (id: string): Job => {
    const job = jobs.get(id);
    if (!job) throw notFound(`job "${id.slice(0, 64)}" (unknown or expired)`, 'id');
    return job;
  };

  const getSample = (job: Job, raw: string): { job: Job; k: number } => {
    if (!job.result) {
      throw new HttpError(409, 'not_finished', `job ${job.id} is ${job.status}; results exist once it is done`, 'id');
    }
    if (!/^\d{1,6}$/.test(raw) || Number(raw) >= job.result.samples.length) {
      throw badField('sample', `must be an integer between 0 and ${job.result.samples.length - 1}`);
    }
    return { job, k: Number(raw) };
  };

  const jobJson = (job: Job): Record<string, unknown> => {
    const now = Date.now();
    const body: Record<string, unknown> = {
      id: job.id,
      status: job.status,
      request: job.request,
      createdAt: new Date(job.createdAt).toISOString(),
      startedAt: job.startedAt === undefined ? null : new Date(job.startedAt).toISOString(),
      finishedAt: job.finishedAt === undefined ? null : new Date(job.finishedAt).toISOString(),
      queuePosition: jobs.queuePosition(job),
      progress: { step: job.step, total: job.total, fraction: job.total > 0 ? job.step / job.total : 0 },
      etaSeconds: etaSeconds(job, now),
      elapsedSeconds: job.startedAt === undefined ? 0 : ((job.finishedAt ?? now) - job.startedAt) / 1000,
      error: job.error ?? null,
      result: job.result ? resultSummaryJson(job.result) : null,
    };
    return body;
  };

  const writeOne = async (s: Structure, format: StructureFormat, title: string): Promise<string> =>
    format === 'json' ? JSON.stringify(structureToJson(s)) : services.writeStructure(s, format, title);

  const FORMAT_TYPES: Record<StructureFormat, [string, string]> = {
    cif: ['chemical/x-cif; charset=utf-8', 'cif'],
    poscar: ['text/plain; charset=utf-8', 'vasp'],
    extxyz: ['text/plain; charset=utf-8', 'extxyz'],
    json: ['application/json; charset=utf-8', 'json'],
  };

  const router = new Router()
    .add('GET', '/api/health', ({ res }) =>
      sendJson(res, 200, {
        status: 'ok',
        version,
        uptimeSeconds: (Date.now() - started) / 1000,
        jobs: jobs.stats(),
        workers: services.runner.stats?.() ?? null,
        memory: { rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed },
        eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
        limits,
      }),
    )
    .add('GET', '/api/openapi.json', ({ res }) => sendJson(res, 200, openApiDocument(version, limits)))
    .add('GET', '/api/models', async ({ res }) => sendJson(res, 200, { models: await services.listModels() }))
    .add('GET', '/api/formula', async ({ res, url }) => {
      const formula = url.searchParams.get('formula') ?? '';
      if (formula.trim() === '') throw badField('formula', 'is required');
      if (formula.length > 100) throw badField('formula', 'must be at most 100 characters');
      const z = intQuery(url.searchParams, 'z', 1, limits.maxZ, 1);
      const counts = await asField('formula', services.parseFormula(formula.trim()));
      const atoms = Object.values(counts).reduce((s, c) => s + c, 0) * z;
      const ok = atoms > 0 && atoms <= limits.maxAtoms;
      sendJson(res, 200, {
        formula: formula.trim(),
        counts,
        atoms,
        ok,
        message: ok ? null : `${atoms} atoms per cell; the server allows 1 to ${limits.maxAtoms}`,
      });
    })
    .add('POST', '/api/predict', async ({ req, res }) => {
      const body = await readJsonBody(req, limits.maxBodyBytes);
      const request = await parsePredictRequest(body, limits, services, () => randomInt(0, 2 ** 31));
      if (services.precheck) {
        const field = request.model !== undefined ? 'model' : request.z > 1 ? 'z' : 'formula';
        await asField(field, services.precheck(request));
      }
      const job = jobs.submit(request);
      sendJson(res, 202, jobJson(job), { Location: `/api/jobs/${job.id}` });
    })
    // de-novo generation: the same queue, workers, limits, events and downloads as predictions
    .add('POST', '/api/generate', async ({ req, res }) => {
      const body = await readJsonBody(req, limits.maxBodyBytes);
      const request = await parseGenerateRequest(body, limits, services, () => randomInt(0, 2 ** 31));
      const job = jobs.submit(request);
      sendJson(res, 202, jobJson(job), { Location: `/api/jobs/${job.id}` });
    })
    .add('GET', '/api/jobs', ({ res }) => {
      const list: Record<string, unknown>[] = [];
      for (const j of jobs.list()) {
        const r = j.request;
        list.push({
          id: j.id,
          kind: isGenerateRequest(r) ? 'generate' : 'predict',
          status: j.status,
          formula: isGenerateRequest(r) ? null : r.formula,
          model: j.request.model ?? null,
          createdAt: new Date(j.createdAt).toISOString(),
        });
      }
      sendJson(res, 200, { jobs: list });
    })
    .add('GET', '/api/jobs/:id', ({ res, params }) => sendJson(res, 200, jobJson(getJob(params.id!))))
    .add('DELETE', '/api/jobs/:id', ({ res, params }) => {
      const job = getJob(params.id!);
      jobs.cancel(job);
      sendJson(res, isFinished(job) ? 200 : 202, jobJson(job));
    })
    .add('GET', '/api/jobs/:id/events', (ctx) => streamEvents(ctx, getJob(ctx.params.id!)))
    .add('GET', '/api/jobs/:id/download', async ({ res, url, params }) => {
      const job = getSample(getJob(params.id!), '0').job;
      const format = parseFormat(url.searchParams);
      const result = job.result!;
      const base = resultFileBase(result, job.id);
      let text: string;
      if (format === 'json') text = JSON.stringify(resultFullJson(result));
      else if (format === 'poscar') throw badField('format', 'POSCAR holds one structure; download samples one by one');
      else {
        const parts: string[] = [];
        for (let k = 0; k < result.samples.length; k++) {
          parts.push(await writeOne(result.samples[k]!.structure, format, sampleTitle(result, k)));
        }
        text = parts.join(format === 'cif' ? '\n' : '');
      }
      const [type, ext] = FORMAT_TYPES[format];
      send(res, 200, text, type, { 'Content-Disposition': `attachment; filename="${base}.${ext}"` });
    })
    .add('GET', '/api/jobs/:id/samples/:k/download', async ({ res, url, params }) => {
      const { job, k } = getSample(getJob(params.id!), params.k!);
      const format = parseFormat(url.searchParams);
      const result = job.result!;
      const text = await writeOne(result.samples[k]!.structure, format, sampleTitle(result, k));
      const [type, ext] = FORMAT_TYPES[format];
      send(res, 200, text, type, {
        'Content-Disposition': `attachment; filename="${resultFileBase(result, job.id)}-${k}.${ext}"`,
      });
    })
    .add('GET', '/api/jobs/:id/samples/:k/trajectory', ({ res, params }) => {
      const { job, k } = getSample(getJob(params.id!), params.k!);
      const s = job.result!.samples[k]!;
      sendJson(res, 200, { sample: k, species: s.structure.species, frames: s.trajectory ?? [] });
    })
    .add('GET', '/api/datasets', async ({ res }) => sendJson(res, 200, { datasets: await services.listDatasets() }))
    .add('GET', '/api/datasets/:name/:split', async ({ res, url, params }) => {
      const name = params.name!;
      const split = params.split!;
      if (!SAFE_NAME.test(name)) throw badField('name', 'must be a dataset name');
      if (!SAFE_NAME.test(split)) throw badField('split', 'must be a split name');
      const known = await services.listDatasets();
      const ds = known.find((d) => d.name === name);
      if (!ds) throw notFound(`dataset "${name}" (known: ${known.map((d) => d.name).join(', ')})`, 'name');
      if (!ds.splits.includes(split)) throw notFound(`split "${split}" of ${name} (known: ${ds.splits.join(', ')})`, 'split');
      const offset = intQuery(url.searchParams, 'offset', 0, 1e8, 0);
      const limit = intQuery(url.searchParams, 'limit', 1, limits.maxPageSize, 20);
      const formula = url.searchParams.get('formula') ?? undefined;
      if (formula !== undefined && formula.length > 100) throw badField('formula', 'must be at most 100 characters');
      const q: { offset: number; limit: number; formula?: string } = { offset, limit };
      if (formula) q.formula = formula;
      const page = await asField('formula', services.datasetPage(name, split, q));
      sendJson(res, 200, {
        ...page,
        items: page.items.map((e) => ({ id: e.id, formula: e.formula, structure: structureToJson(e.structure), cif: e.cif ?? null })),
      });
    })
    .add('POST', '/api/parse', async ({ req, res }) => {
      const body = expectObject(await readJsonBody(req, limits.maxBodyBytes));
      rejectUnknownFields(body, ['cif']);
      const s = await asField('cif', services.parseCif(stringField(body, 'cif', limits.maxBodyBytes)));
      checkAtoms(s, 'cif');
      sendJson(res, 200, { structure: structureToJson(s) });
    })
    .add('POST', '/api/match', async ({ req, res }) => {
      const body = expectObject(await readJsonBody(req, limits.maxBodyBytes));
      rejectUnknownFields(body, ['cif_a', 'cif_b']);
      const a = await asField('cif_a', services.parseCif(stringField(body, 'cif_a', limits.maxBodyBytes)));
      checkAtoms(a, 'cif_a');
      const b = await asField('cif_b', services.parseCif(stringField(body, 'cif_b', limits.maxBodyBytes)));
      checkAtoms(b, 'cif_b');
      const m = await asField('cif_a', services.matchCifs(body.cif_a as string, body.cif_b as string));
      sendJson(res, 200, { match: m.match, rms: m.rms, structure_a: structureToJson(a), structure_b: structureToJson(b) });
    });

  function checkAtoms(s: Structure, field: string): void {
    // the matcher's cost grows fast with the cell size; keep uploads to the prediction cap (x4 for supercells)
    if (s.species.length > limits.maxAtoms * 4) {
      throw badField(field, `has ${s.species.length} atoms; the server allows at most ${limits.maxAtoms * 4}`);
    }
  }

  function streamEvents({ req, res }: RouteContext, job: Job): void {
    if (openStreams >= limits.maxEventStreams) {
      throw new HttpError(503, 'too_many_streams', `at most ${limits.maxEventStreams} event streams may be open`);
    }
    openStreams++;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const emit = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const progress = (): void =>
      emit('progress', { step: job.step, total: job.total, etaSeconds: etaSeconds(job, Date.now()) });
    const frame = (sample: number, index: number, f: unknown): void => emit('frame', { sample, index, frame: f });
    const status = (): void => {
      emit('status', { status: job.status, error: job.error ?? null });
      if (isFinished(job)) {
        // frames that the predictor only returned at the end
        if (job.result && replayed.size === 0) replayFinal();
        emit('end', jobJson(job));
        cleanup();
        res.end();
      }
    };
    const replayed = new Set<number>();
    const replayFinal = (): void => {
      job.result!.samples.forEach((s, k) => {
        (s.trajectory ?? []).forEach((f, i) => frame(k, i, f));
      });
    };
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    let cleaned = false;
    const cleanup = (): void => {
      if (cleaned) return;
      cleaned = true;
      openStreams--;
      clearInterval(keepAlive);
      job.events.off('progress', progress);
      job.events.off('frame', onLiveFrame);
      job.events.off('status', status);
    };
    const onLiveFrame = (sample: number, index: number, f: unknown): void => {
      replayed.add(sample);
      frame(sample, index, f);
    };
    req.on('close', cleanup);
    // replay what happened so far, then follow live
    emit('status', { status: job.status, error: job.error ?? null });
    progress();
    job.liveFrames.forEach((frames, k) => {
      replayed.add(k);
      frames.forEach((f, i) => frame(k, i, f));
    });
    if (isFinished(job)) {
      status();
      return;
    }
    job.events.on('progress', progress);
    job.events.on('frame', onLiveFrame);
    job.events.on('status', status);
  }

  // The request target is a path: "//x" must stay a path, not become host "x" as new URL("//x", base) reads it (fuzzing found a 500 there)
  const requestUrl = (target: string): URL => {
    try {
      return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target, 'http://localhost');
    } catch {
      throw new HttpError(400, 'bad_request', 'the request target is not a valid path');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    // A loopback-bound server only answers loopback Host names (defeats DNS rebinding from web pages).
    if (isLoopback(host) && !isLoopback(hostHeader)) {
      throw new HttpError(403, 'forbidden_host', `Host "${hostHeader.slice(0, 100)}" is not allowed`, 'host');
    }
    const url = requestUrl(req.url ?? '/');
    if (!url.pathname.startsWith('/api/')) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', `${method} not allowed`);
      const file = files.get(url.pathname);
      if (file) {
        send(res, 200, method === 'HEAD' ? '' : file.body, file.type, { 'Cache-Control': 'no-cache' });
        return;
      }
      if (url.pathname === '/' || url.pathname === '/index.html') {
        send(res, 200, '<!doctype html><title>kldm</title><p>The page is not built: run <code>npm run build</code>. The API is at <a href="/api/openapi.json">/api/openapi.json</a>.', 'text/html; charset=utf-8');
        return;
      }
      throw notFound(`${url.pathname.slice(0, 200)}`, 'path');
    }
    const m = router.match(method, url.pathname);
    if (m.kind === 'not_found') throw notFound(`endpoint ${url.pathname.slice(0, 200)}`, 'path');
    if (m.kind === 'method_not_allowed') {
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here (allowed: ${m.allowed.join(', ')})`, 'method', {
        Allow: m.allowed.join(', '),
      });
    }
    await m.handler({ req, res, url, params: m.params });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (err instanceof HttpError) {
        sendJson(res, err.status, err.toJSON(), err.headers);
        if (err.status === 413) res.once('finish', () => req.destroy());
        return;
      }
      if (err instanceof KldmError) {
        // a configuration problem of this installation (e.g. a broken model manifest): say what it is
        log(`kldm serve: ${req.method} ${req.url}: ${err.message}`);
        sendJson(res, 500, { error: { status: 500, code: 'server_error', message: err.message } });
        return;
      }
      log(`kldm serve: internal error on ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`);
      sendJson(res, 500, { error: { status: 500, code: 'internal', message: 'internal server error' } });
    });
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.maxHeadersCount = 100;

  return {
    server,
    jobs,
    limits,
    listen: () =>
      new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 8080, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve(`http://${h}:${addr.port}`);
        });
      }),
    close: async () => {
      loopDelay.disable();
      jobs.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, services.runner.close?.()]);
    },
  };
}
