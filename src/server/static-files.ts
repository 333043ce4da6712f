/**
 * The bundled page (built by scripts/build-web.mjs into dist/web). All files
 * are read into memory once at start-up, so a request path is only ever a key
 * into that map: no request data reaches the file system (no traversal).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** dist/web next to the compiled server, or (running from src/ under tsx) the repository's dist/web */
export function defaultWebRoot(): string | null {
  const candidates = [new URL('../web/', import.meta.url), new URL('../../dist/web/', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(join(p, 'index.html'))) return p;
  }
  return null;
}

const MAX_FILES = 200;
const MAX_TOTAL_BYTES = 64 << 20;

export function loadStaticFiles(root: string | null): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (root === null || !existsSync(root)) return files;
  let total = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const st = statSync(full);
      if (st.isDirectory()) {
        walk(full);
        continue;
      }
      const type = TYPES[extname(name).toLowerCase()];
      if (!type || files.size >= MAX_FILES) continue;
      total += st.size;
      if (total > MAX_TOTAL_BYTES) throw new Error(`web root ${root} holds more than ${MAX_TOTAL_BYTES} bytes`);
      files.set('/' + relative(root, full).split(sep).join('/'), { body: readFileSync(full), type });
    }
  };
  walk(root);
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}
