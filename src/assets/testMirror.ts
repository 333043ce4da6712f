/**
 * For tests: the local asset mirror (the shared/ folder beside the repository,
 * as in CI, or $KLDM_MIRROR) and a loopback HTTP server that serves it, with
 * routes that misbehave on purpose (404, redirects, a redirect loop, wrong
 * bytes, a connection cut mid-body) to exercise the real download path.
 */
import http from 'node:http';
import { createReadStream, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function testMirrorDir(): string {
  const env = process.env['KLDM_MIRROR'];
  if (env && env.trim() !== '' && !/^https?:/i.test(env)) return resolve(env);
  return fileURLToPath(new URL('../../../shared/', import.meta.url));
}

export function haveTestMirror(): boolean {
  return existsSync(join(testMirrorDir(), 'data')) && existsSync(join(testMirrorDir(), 'reference'));
}

/** Points KLDM_HOME at a fresh empty folder for the rest of this test process; returns it. */
export function freshHome(prefix = 'kldm-home-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.env['KLDM_HOME'] = dir;
  return dir;
}

export interface RequestLog {
  url: string;
  range?: string;
}

export interface MirrorServer {
  base: string;
  requests: RequestLog[];
  close(): Promise<void>;
}

/**
 * Routes (PATH is a mirror-relative path such as reference/m3gnet/state.pt):
 *   /mirror/PATH    the file (200, or 206 for a Range request)
 *   /redirect/PATH  302 -> /mirror/PATH
 *   /loop/PATH      302 -> /loop2/PATH -> 302 -> /loop/PATH
 *   /wrong/PATH     the file with its first byte changed
 *   /cut/PATH       the first request without Range sends the full Content-Length but
 *                   only half of the body, then cuts the connection; later ones behave as /mirror
 *   anything else   404
 */
export async function startMirrorServer(mirror = testMirrorDir()): Promise<MirrorServer> {
  const requests: RequestLog[] = [];
  const cutDone = new Set<string>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ url: url.pathname, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const m = /^\/(mirror|redirect|loop|loop2|wrong|cut)\/(.+)$/.exec(url.pathname);
    const rel = m ? normalize(decodeURIComponent(m[2]!)) : '';
    const file = join(mirror, rel);
    if (!m || rel.startsWith('..') || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const route = m[1]!;
    if (route === 'redirect') return void res.writeHead(302, { Location: `/mirror/${m[2]}` }).end();
    if (route === 'loop') return void res.writeHead(302, { Location: `/loop2/${m[2]}` }).end();
    if (route === 'loop2') return void res.writeHead(302, { Location: `/loop/${m[2]}` }).end();
    const size = statSync(file).size;
    if (route === 'wrong') {
      const bytes = readFileSync(file);
      bytes[0] = bytes[0]! ^ 0xff;
      return void res.writeHead(200, { 'Content-Length': String(size) }).end(bytes);
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (route === 'cut' && !range && !cutDone.has(rel)) {
      cutDone.add(rel);
      res.writeHead(200, { 'Content-Length': String(size) });
      const half = readFileSync(file).subarray(0, Math.floor(size / 2));
      res.write(half, () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (range) {
      const start = Number(range[1]);
      if (start >= size) return void res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      res.writeHead(206, { 'Content-Length': String(size - start), 'Content-Range': `bytes ${start}-${size - 1}/${size}` });
      createReadStream(file, { start }).pipe(res);
      return;
    }
    res.writeHead(200, { 'Content-Length': String(size) });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
