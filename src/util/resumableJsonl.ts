/**
 * Reading a JSON Lines output file before resuming a run that appends to it (kldm sample, generate,
 * relax): a torn last line (the process was killed inside a write) is cut off the file, and every
 * other line must be a JSON object, else the file is not ours and nothing is appended to it.
 */
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { KldmError } from './errors.js';

export function readResumableJsonl(path: string, what: string): { line: number; value: Record<string, unknown> }[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n');
  if (end !== text.length - 1) truncateSync(path, Buffer.byteLength(text.slice(0, end + 1), 'utf8'));
  const out: { line: number; value: Record<string, unknown> }[] = [];
  text.slice(0, end + 1).split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new KldmError(`${path}: line ${i + 1} is not JSON; not a ${what} output (refusing to append)`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new KldmError(`${path}: line ${i + 1} is not a JSON object; not a ${what} output (refusing to append)`);
    out.push({ line: i + 1, value: v as Record<string, unknown> });
  });
  return out;
}
