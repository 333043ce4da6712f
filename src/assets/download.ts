/**
 * HTTP(S) download of one file into a partial file, resumable: a partial file
 * left by an earlier, interrupted attempt is continued with a Range request,
 * and a connection cut mid-body is retried from where it stopped. Redirects are
 * followed (loops and long chains are errors); non-2xx answers, bodies shorter
 * than announced and unreachable hosts are errors that say so. The caller
 * verifies the finished file before moving it into the store.
 */
import http from 'node:http';
import https from 'node:https';
import { createWriteStream, existsSync, mkdirSync, statSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, errorMessage } from '../util/errors.js';
import { DownloadHttpError, NetworkUnavailable, RedirectLoop, TruncatedDownload } from './errors.js';

export interface DownloadOptions {
  headers?: Record<string, string>;
  /** redirects followed before giving up (default 10) */
  maxRedirects?: number;
  /** resumed attempts after a connection cut mid-body (default 3) */
  retries?: number;
  /** idle time on the socket before the attempt counts as cut, ms (default 30 s) */
  timeoutMs?: number;
  /** called as bytes arrive: bytes in the partial file so far, and the full size when known */
  onProgress?: (received: number, total: number | undefined) => void;
  /**
   * Tests only: the file-system functions (open, write, close) the partial file is written with
   * (createWriteStream's `fs` option), to make writes slow and check that a cut attempt settles
   * only after its last write has landed and reports the bytes in the file. Default node:fs.
   */
  partFs?: WriteStreamOptions['fs'];
}

type WriteStreamOptions = NonNullable<Exclude<Parameters<typeof createWriteStream>[1], string>>;

export interface DownloadResult {
  /** size of the finished file */
  bytes: number;
  /** URL the body came from, after redirects */
  finalUrl: string;
  /** bytes already in the partial file when the first attempt started */
  resumedFrom: number;
  /** attempts that ended in a cut connection and were resumed */
  resumes: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** connect-time failures that mean the host cannot be reached at all */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'ETIMEDOUT', 'ECONNRESET']);

function request(url: string, headers: Record<string, string>, timeoutMs: number): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
  if (!mod) throw new InputError(`unsupported URL scheme "${u.protocol}" in ${url} (http and https only)`);
  return new Promise((resolve, reject) => {
    const req = mod.get(u, { headers, timeout: timeoutMs }, resolve);
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(UNREACHABLE.has(err.code ?? '') ? new NetworkUnavailable(url, err.code!) : err));
  });
}

/** "bytes 100-199/1000" -> {start 100, total 1000}; "bytes * /1000" -> {total 1000} */
function parseContentRange(v: string | undefined): { start?: number; total?: number } | undefined {
  if (!v) return undefined;
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(v.trim());
  if (!m) return undefined;
  return { ...(m[1] !== undefined ? { start: Number(m[1]) } : {}), ...(m[2] !== '*' ? { total: Number(m[2]) } : {}) };
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** One request (following redirects) that appends the rest of the body to `part`. */
async function attempt(url0: string, part: string, opts: DownloadOptions): Promise<{ bytes: number; finalUrl: string }> {
  const maxRedirects = opts.maxRedirects ?? 10;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const chain = [url0];
  let url = url0;
  let offset = sizeOf(part);
  for (;;) {
    const headers: Record<string, string> = { 'User-Agent': 'kldm-assets', 'Accept-Encoding': 'identity', ...opts.headers };
    if (offset > 0) headers['Range'] = `bytes=${offset}-`;
    const res = await request(url, headers, timeoutMs);
    const status = res.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw new DownloadHttpError(url, status, 'redirect without a Location header');
      const next = new URL(location, url).toString();
      if (chain.includes(next)) throw new RedirectLoop([...chain, next], 'redirect loop');
      chain.push(next);
      if (chain.length - 1 > maxRedirects) throw new RedirectLoop(chain, `more than ${maxRedirects} redirects`);
      url = next;
      continue;
    }
    if (status === 416 && offset > 0) {
      // The partial file is at least as long as the resource: complete if the sizes agree, else start over.
      res.resume();
      if (parseContentRange(res.headers['content-range'])?.total === offset) return { bytes: offset, finalUrl: url };
      truncateSync(part, 0);
      offset = 0;
      continue;
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new DownloadHttpError(url, status, res.statusMessage ?? '');
    }
    let start = 0;
    let total: number | undefined;
    if (status === 206) {
      const range = parseContentRange(res.headers['content-range']);
      if (range?.start !== offset) {
        // A range we did not ask for: do not splice it in; fetch the whole file instead.
        res.resume();
        truncateSync(part, 0);
        offset = 0;
        continue;
      }
      start = offset;
      total = range.total;
    } else {
      // 200: the server sent the whole file (it ignored or lacks Range support): start over.
      const len = res.headers['content-length'];
      total = len !== undefined ? Number(len) : undefined;
    }
    let received = start;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        opts.onProgress?.(received, total);
        cb(null, chunk);
      },
    });
    mkdirSync(dirname(part), { recursive: true });
    const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w', ...(opts.partFs ? { fs: opts.partFs } : {}) });
    try {
      await pipeline(res, counter, out);
    } catch (err) {
      // A retry (or the next fetch) resumes from the partial file's size, so that size must be final: make
      // sure the file stream has closed (Node 20's pipeline already waits for it; kept so that no change of
      // plumbing can let a late write land after the resume has asked for the bytes from the earlier size).
      // The bytes that passed the counter but were still buffered were dropped: report what is in the file.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      throw new TruncatedDownload(url, sizeOf(part), total, part, errorMessage(err));
    }
    if (total !== undefined && received < total) throw new TruncatedDownload(url, received, total, part, 'connection closed early');
    return { bytes: received, finalUrl: url };
  }
}

/** Downloads `url` into `part` (resuming what is already there). The file is not verified here. */
export async function downloadFile(url: string, part: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const retries = opts.retries ?? 3;
  const resumedFrom = sizeOf(part);
  let resumes = 0;
  for (;;) {
    try {
      const r = await attempt(url, part, opts);
      return { ...r, resumedFrom, resumes };
    } catch (err) {
      if (!(err instanceof TruncatedDownload) || resumes >= retries) throw err;
      resumes++;
      await new Promise((r) => setTimeout(r, 200 * resumes));
    }
  }
}
