/**
 * The HTTP API (src/server) started in-process on 127.0.0.1 with the test services (real worker
 * threads around the fake predictor, real formula and CIF parsing): generated requests to every
 * endpoint and to made-up paths (malformed JSON, wrong types, huge numbers, unknown fields, path
 * traversal, oversized and slowly sent bodies, many concurrent event streams). Only loopback
 * traffic; every case is bounded in count and time.
 *
 * Property: every reply is a 2xx, or a 4xx/503 whose JSON body names the problem
 * ({"error": {"message": ...}}); never a 500, never a hang; the server answers /api/health after
 * every case, and closed event streams are released.
 */
import fc from 'fast-check';
import { request, type IncomingMessage } from 'node:http';
import { createKldmServer, type KldmServer } from '../../server/app.js';
import { testServices } from '../../server/testing/test-services.js';
import { datasetCifs } from '../corpus.js';
import { FuzzViolation, type FuzzTarget } from '../harness.js';
import { INTERESTING_NUMBERS, mutatedText } from '../mutate.js';
import { CIF_TOKENS } from './cif.js';

const MAX_BODY = 64 * 1024;
const MAX_STREAMS = 8;

interface Reply {
  status: number;
  type: string;
  body: string;
}

type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string } | { kind: 'huge'; bytes: number; declare: boolean };

interface HttpCase {
  kind: 'request';
  method: string;
  path: string;
  contentType: string;
  body: Body;
  /** send the body in this many chunks with a short pause between them */
  chunks: number;
}

interface StreamsCase {
  kind: 'streams';
  count: number;
  job: number;
}

/**
 * Failures found by this fuzzer in code outside this branch's reach (src/server/app.ts is being
 * reworked on another branch): counted and reported by `npm run fuzz` instead of failing, each
 * with its own explicit test (src/fuzz/fuzz.test.ts, marked todo). Remove an entry once fixed.
 */
export const KNOWN_HTTP_ISSUES: { id: string; matches: (path: string) => boolean; note: string }[] = [];
const knownHits = new Map<string, number>();
/** replies by status (the harness counts a case as accepted when every reply was 2xx or a clean 4xx/503) */
const statusCounts = new Map<number, number>();

let app: KldmServer | null = null;
let port = 0;
const jobIds: string[] = [];
let cifs: string[] = [];
let serverErrors: string[] = [];

function send(method: string, path: string, headers: Record<string, string>, body: Buffer | null, chunks = 1): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no reply within 10 s')));
    if (body === null) {
      req.end();
      return;
    }
    const step = Math.ceil(body.length / Math.max(1, chunks));
    let off = 0;
    const next = (): void => {
      if (off >= body.length) {
        req.end();
        return;
      }
      req.write(body.subarray(off, off + step));
      off += step;
      setTimeout(next, 3);
    };
    if (chunks <= 1) req.end(body);
    else next();
  });
}

/** A reply that rejects must be JSON naming the problem; 500 is never acceptable. */
function checkReply(r: Reply, what: string): void {
  if (r.status >= 200 && r.status < 400) return;
  if (r.status >= 500 && r.status !== 503) throw new FuzzViolation(`${what}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  if (!r.type.startsWith('application/json')) throw new FuzzViolation(`${what}: HTTP ${r.status} with content type ${r.type}`);
  let parsed: { error?: { message?: unknown } };
  try {
    parsed = JSON.parse(r.body) as { error?: { message?: unknown } };
  } catch {
    throw new FuzzViolation(`${what}: HTTP ${r.status} body is not JSON: ${r.body.slice(0, 200)}`);
  }
  if (typeof parsed.error?.message !== 'string' || parsed.error.message.trim() === '') throw new FuzzViolation(`${what}: HTTP ${r.status} without an error message: ${r.body.slice(0, 200)}`);
}

const weird = fc.oneof(
  fc.constantFrom(null, true, false, '', 'SrTiO3', 'em', 'pc', 'fake', 'fake-error', '../etc/passwd', [], {}, { $ne: 1 }, -1, 0, 1, 2, 1e308, -1e308, 2 ** 53 + 2, 0.5, 1e-320),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 30, unit: 'binary' }),
);

const predictBody = fc.record(
  {
    formula: fc.oneof(fc.constantFrom('SrTiO3', 'NaCl', 'Fe2O3x2', 'Ca(OH)2', 'H99999999999', '((((H))))', 'Xx', 'Sr\rTiO3', 'x'.repeat(101)), weird),
    n: fc.oneof(fc.integer({ min: 1, max: 3 }), weird),
    z: fc.oneof(fc.integer({ min: 1, max: 2 }), weird),
    steps: fc.oneof(fc.integer({ min: 1, max: 20 }), weird),
    seed: fc.oneof(fc.nat(), weird),
    sampler: fc.oneof(fc.constantFrom('em', 'pc'), weird),
    model: fc.oneof(fc.constantFrom('fake', 'fake-error', 'fake-busy', 'nope'), weird),
    trajectory: fc.oneof(fc.boolean(), weird),
    extra: weird,
  },
  { requiredKeys: [] },
);

/** a request the server should accept (or answer 429 when its queue is full) */
const validPredictBody = fc.record(
  {
    formula: fc.constantFrom('SrTiO3', 'NaCl', 'Fe2O3', 'Ca(OH)2', 'LiCoO2', 'BaTiO3x2'),
    n: fc.integer({ min: 1, max: 3 }),
    z: fc.integer({ min: 1, max: 2 }),
    steps: fc.integer({ min: 1, max: 20 }),
    seed: fc.nat(),
    sampler: fc.constantFrom('em', 'pc'),
    model: fc.constantFrom('fake', 'fake', 'fake', 'fake-error', 'fake-busy'),
    trajectory: fc.boolean(),
  },
  { requiredKeys: ['formula'] },
);

const generateBody = fc.record(
  {
    model: fc.oneof(fc.constantFrom('fake-dng', 'fake', 'nope'), weird),
    n: fc.oneof(fc.integer({ min: 1, max: 3 }), weird),
    atoms: fc.oneof(fc.integer({ min: 1, max: 8 }), weird),
    atomsRange: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 80 })), fc.array(weird, { maxLength: 3 }), weird),
    elements: fc.oneof(fc.array(fc.constantFrom('Li', 'O', 'Fe', 'Xx', 'Fm', 'Og', '', 'li'), { maxLength: 4 }), weird),
    steps: fc.oneof(fc.integer({ min: 1, max: 20 }), weird),
    seed: fc.oneof(fc.nat(), weird),
    sampler: fc.oneof(fc.constantFrom('em', 'pc'), weird),
    trajectory: fc.oneof(fc.boolean(), weird),
    extra: weird,
  },
  { requiredKeys: [] },
);

/** a generation the server should accept (or answer 429 when its queue is full) */
const validGenerateBody = fc.record(
  {
    model: fc.constant('fake-dng'),
    n: fc.integer({ min: 1, max: 3 }),
    atoms: fc.integer({ min: 1, max: 8 }),
    elements: fc.array(fc.constantFrom('Li', 'O', 'Fe', 'Sr'), { minLength: 1, maxLength: 3 }),
    steps: fc.integer({ min: 1, max: 20 }),
    seed: fc.nat(),
    sampler: fc.constantFrom('em', 'pc'),
    trajectory: fc.boolean(),
  },
  { requiredKeys: [] },
);

function cifBody(field: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({ [field]: fc.oneof(fc.constantFrom(...cifs), mutatedText(cifs, CIF_TOKENS), weird) }, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}

const segment = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2E%2E%2F', '..%2f..%2fetc%2fpasswd', '%00', '%ff', '%', 'api', 'jobs', 'index.html', 'etc', 'passwd', '~', '%5c..%5c', '' + 'a'.repeat(3000)),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);

const query = fc
  .array(fc.tuple(fc.constantFrom('format', 'offset', 'limit', 'formula', 'z', 'k', 'x'), fc.oneof(fc.constantFrom('cif', 'poscar', 'extxyz', 'json', 'pdf', '-1', '1e999', '999999999999', ...INTERESTING_NUMBERS), fc.string({ maxLength: 8 }))), { maxLength: 3 })
  .map((q) => (q.length ? '?' + q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&') : ''));

function pathArb(): fc.Arbitrary<string> {
  const job = fc.oneof(fc.nat().map((k) => `{job${k}}`), fc.constantFrom('nope', '00000000-0000-0000-0000-000000000000', '..', '%2e%2e'), segment);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('/api/health', '/api/openapi.json', '/api/models', '/api/jobs', '/api/datasets', '/api/predict', '/api/generate', '/api/parse', '/api/match', '/', '/index.html') },
    { weight: 3, arbitrary: fc.tuple(job, fc.constantFrom('', '/events', '/download', '/samples/0/download', '/samples/0/trajectory', '/samples/-1/trajectory', '/samples/99/download', '/samples/1e3/download')).map(([j, rest]) => `/api/jobs/${j}${rest}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('toy', 'nope', '..', 'a'.repeat(70)), fc.constantFrom('test', 'train', '..', '%2e%2e')).map(([d, s]) => `/api/datasets/${d}/${s}`) },
    { weight: 1, arbitrary: fc.constant('/api/formula') },
    { weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => '/' + s.join('/')) },
    { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => '/api/' + s.join('/')) },
  ).chain((p) => query.map((q) => p + q));
}

function bodyArb(): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 4, arbitrary: predictBody.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 2, arbitrary: generateBody.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 2, arbitrary: fc.oneof(cifBody('cif'), cifBody('cif_a').chain((a) => cifBody('cif_b').map((b) => ({ ...a, ...b })))).map((value) => ({ kind: 'json' as const, value })) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => ({ kind: 'json' as const, value })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.string({ maxLength: 50, unit: 'binary' }), fc.constantFrom('{', '{"formula":', '[', 'null', '{"formula":"SrTiO3",}', '\uFEFF{}', '{"n":1e999999}', '{"__proto__":{"x":1}}', '{"formula":"' + 'A'.repeat(2000) + '"}'), fc.nat({ max: 20000 }).map((d) => '['.repeat(d) + ']'.repeat(d)))
        .map((text) => ({ kind: 'raw' as const, text })),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), bytes: fc.constantFrom(MAX_BODY - 10, MAX_BODY + 1, 4 * MAX_BODY), declare: fc.boolean() }) },
  );
}

function resolveJob(path: string): string {
  return path.replace(/\{job(\d+)\}/g, (_, k: string) => (jobIds.length ? jobIds[Number(k) % jobIds.length]! : 'none-yet'));
}

async function runRequest(c: HttpCase): Promise<void> {
  const known = KNOWN_HTTP_ISSUES.find((k) => k.matches(resolveJob(c.path)));
  if (!known) return runRequestStrict(c);
  try {
    await runRequestStrict(c);
  } catch (err) {
    if (!(err instanceof FuzzViolation)) throw err;
    knownHits.set(known.id, (knownHits.get(known.id) ?? 0) + 1);
    serverErrors = [];
  }
}

async function runRequestStrict(c: HttpCase): Promise<void> {
  const headers: Record<string, string> = {};
  if (c.contentType) headers['content-type'] = c.contentType;
  let body: Buffer | null = null;
  if (c.body.kind === 'json') body = Buffer.from(JSON.stringify(c.body.value) ?? 'null');
  else if (c.body.kind === 'raw') body = Buffer.from(c.body.text);
  else if (c.body.kind === 'huge') body = Buffer.alloc(c.body.bytes, 0x20);
  // every body is framed (Node's client sends none for DELETE/OPTIONS otherwise, and the bytes would read as a
  // second, garbage request); unframed garbage is answered by Node's HTTP parser with a plain 400 before the app sees it
  if (body) {
    if (c.body.kind === 'huge' && !c.body.declare) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(body.length);
  }
  const path = resolveJob(c.path);
  const what = `${c.method} ${path.slice(0, 120)}`;
  let reply: Reply;
  try {
    reply = await send(c.method, path, headers, body, c.chunks);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // an oversized upload may be cut off (413 then reset) before the client finished sending
    if (c.body.kind === 'huge' && c.body.bytes > MAX_BODY && (code === 'ECONNRESET' || code === 'EPIPE')) return;
    throw new FuzzViolation(`${what}: no reply (${(err as Error).message})`);
  }
  statusCounts.set(reply.status, (statusCounts.get(reply.status) ?? 0) + 1);
  if (c.method === 'HEAD') {
    if (reply.status >= 500 && reply.status !== 503) throw new FuzzViolation(`${what}: HTTP ${reply.status}`);
    return;
  }
  checkReply(reply, what);
  if (c.method === 'POST' && (path === '/api/predict' || path === '/api/generate') && reply.status === 202) {
    const id = (JSON.parse(reply.body) as { id: string }).id;
    jobIds.push(id);
    if (jobIds.length > 50) jobIds.shift();
  }
}

function openStream(path: string): Promise<{ reply: Reply | null; close: () => void; status: number; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'GET', path, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      const type = String(res.headers['content-type'] ?? '');
      if (status !== 200) {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ reply: { status, type, body: Buffer.concat(parts).toString('utf8') }, close: () => req.destroy(), status, type }));
        return;
      }
      res.once('data', () => resolve({ reply: null, close: () => req.destroy(), status, type }));
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no reply within 10 s')));
    req.end();
  });
}

async function runStreams(c: StreamsCase): Promise<void> {
  const path = `/api/jobs/${resolveJob(`{job${c.job}}`)}/events`;
  const streams = await Promise.all(Array.from({ length: c.count }, () => openStream(path)));
  try {
    for (const s of streams) {
      if (s.reply) checkReply(s.reply, `GET ${path}`);
      else if (!s.type.startsWith('text/event-stream')) throw new FuzzViolation(`GET ${path}: 200 with content type ${s.type}`);
    }
  } finally {
    for (const s of streams) s.close();
  }
  // the closed streams must be released: soon a full set can be opened again
  if (jobIds.length === 0) return;
  for (let attempt = 0; ; attempt++) {
    const again = await Promise.all(Array.from({ length: MAX_STREAMS }, () => openStream(path)));
    again.forEach((s) => s.close());
    if (again.every((s) => s.status !== 503)) return;
    if (attempt >= 20) throw new FuzzViolation(`event streams are not released: ${again.filter((s) => s.status === 503).length} of ${MAX_STREAMS} refused after all streams were closed`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const httpFuzzTarget: FuzzTarget<HttpCase | StreamsCase> = {
  name: 'http',
  description: 'the HTTP API in-process on 127.0.0.1 (test services, fake predictor): generated requests, bodies and event streams',
  caseTimeMs: 5000,
  async setup() {
    cifs = datasetCifs().slice(0, 50).map((r) => r.cif);
    serverErrors = [];
    app = createKldmServer({
      port: 0,
      services: testServices(),
      webRoot: null,
      limits: { concurrency: 2, maxQueued: 4, maxN: 3, maxSteps: 50, maxAtoms: 40, maxBodyBytes: MAX_BODY, maxEventStreams: MAX_STREAMS, maxJobMs: 3000, maxJobsKept: 100 },
      log: (line) => serverErrors.push(line),
    });
    const url = await app.listen();
    port = Number(new URL(url).port);
  },
  async teardown() {
    await app?.close();
    app = null;
    jobIds.length = 0;
  },
  arbitrary: () =>
    fc.oneof(
      // requests aimed at an endpoint with the right method, so that most of them get past routing
      {
        weight: 12,
        arbitrary: fc
          .oneof(
            { weight: 5, arbitrary: fc.oneof(validPredictBody, predictBody).map((value) => ({ method: 'POST', path: '/api/predict', body: { kind: 'json' as const, value } as Body })) },
            { weight: 3, arbitrary: fc.oneof(validGenerateBody, generateBody).map((value) => ({ method: 'POST', path: '/api/generate', body: { kind: 'json' as const, value } as Body })) },
            { weight: 2, arbitrary: cifBody('cif').map((value) => ({ method: 'POST', path: '/api/parse', body: { kind: 'json' as const, value } as Body })) },
            { weight: 1, arbitrary: cifBody('cif_a').chain((a) => cifBody('cif_b').map((b) => ({ method: 'POST', path: '/api/match', body: { kind: 'json' as const, value: { ...a, ...b } } as Body }))) },
            { weight: 2, arbitrary: fc.constantFrom('POST /api/predict', 'POST /api/generate', 'POST /api/parse', 'POST /api/match').chain((e) => bodyArb().map((body) => ({ method: e.split(' ')[0]!, path: e.split(' ')[1]!, body }))) },
            {
              weight: 4,
              arbitrary: fc
                .tuple(fc.constantFrom('GET', 'GET', 'GET', 'DELETE', 'HEAD'), fc.nat(), fc.constantFrom('', '/events', '/download', '/samples/0/download', '/samples/1/trajectory', '/samples/0/trajectory', '/samples/9/download', '/samples/x/download'), query)
                .map(([method, k, rest, q]) => ({ method, path: `/api/jobs/{job${k}}${rest}${q}`, body: { kind: 'none' as const } as Body })),
            },
            { weight: 2, arbitrary: fc.tuple(fc.constantFrom('/api/formula', '/api/datasets/toy/test', '/api/health', '/api/models', '/api/jobs', '/api/openapi.json'), query).map(([p, q]) => ({ method: 'GET', path: p + q, body: { kind: 'none' as const } as Body })) },
          )
          .chain((r) =>
            fc.record({
              kind: fc.constant('request' as const),
              method: fc.constant(r.method),
              path: fc.constant(r.path),
              contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', ''),
              body: fc.constant(r.body),
              chunks: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 6 })),
            }),
          ),
      },
      // anything: random methods, made-up paths (traversal, encodings, long segments), any body
      {
        weight: 8,
        arbitrary: fc.record({
          kind: fc.constant('request' as const),
          method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'),
          path: pathArb(),
          contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', '', 'APPLICATION/JSON', 'multipart/form-data'),
          body: bodyArb(),
          chunks: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 6 })),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('streams' as const), count: fc.integer({ min: 1, max: MAX_STREAMS + 4 }), job: fc.nat() }) },
    ),
  async run(c) {
    serverErrors = [];
    if (c.kind === 'request') await runRequest(c);
    else await runStreams(c);
    const health = await send('GET', '/api/health', {}, null);
    if (health.status !== 200) throw new FuzzViolation(`the server stopped answering /api/health (HTTP ${health.status})`);
    const internal = serverErrors.filter((l) => /internal error/.test(l));
    if (internal.length > 0) throw new FuzzViolation(`server logged: ${internal[0]!.slice(0, 500)}`);
  },
  summary: () =>
    [
      `replies by status: ${[...statusCounts].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ')}`,
      ...[...knownHits].map(([id, n]) => `known issue ${id} (${KNOWN_HTTP_ISSUES.find((k) => k.id === id)!.note}): ${n} cases`),
    ].join('; '),
  show: (c) => JSON.stringify(c, (_k, v: unknown) => (typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}...(${v.length})` : v)),
};
