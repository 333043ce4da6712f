/** JSON Lines helpers: append-only machine-readable logs and line-by-line reading. */
import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';

export class JsonlLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }
  write(record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }
}

/** Reads a .jsonl or .jsonl.gz file; each entry is the parsed value or the parse error with its line number. */
export function readJsonl(path: string): Array<{ line: number; value?: unknown; error?: string }> {
  if (!existsSync(path)) return [];
  let buf = readFileSync(path);
  if (path.endsWith('.gz')) buf = gunzipSync(buf);
  const out: Array<{ line: number; value?: unknown; error?: string }> = [];
  const lines = buf.toString('utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === '') continue;
    try {
      out.push({ line: i + 1, value: JSON.parse(text) });
    } catch (err) {
      out.push({ line: i + 1, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
