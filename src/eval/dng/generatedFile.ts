/**
 * Reading generated crystals for `kldm evaluate dng`: JSON Lines with a "cif" field and an id ("id",
 * "material_id" or "name"; the line number otherwise). A line without a usable CIF stays in the set as
 * an invalid structure (it was generated, so it counts in every denominator); unparsable lines are
 * counted and reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../../util/errors.js';
import type { GeneratedInput } from './evaluate.js';

export interface GeneratedFile {
  structures: GeneratedInput[];
  unreadableLines: number;
  messages: string[];
}

export function parseGeneratedJsonl(text: string, source: string): GeneratedFile {
  const structures: GeneratedInput[] = [];
  const messages: string[] = [];
  let unreadableLines = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '') continue;
    const where = `${source}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (err) {
      unreadableLines++;
      if (messages.length < 50) messages.push(`${where}: not JSON (${(err as Error).message})`);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      unreadableLines++;
      if (messages.length < 50) messages.push(`${where}: expected a JSON object`);
      continue;
    }
    const o = v as Record<string, unknown>;
    const rawId = o['id'] ?? o['material_id'] ?? o['name'];
    const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : `line${i + 1}`;
    if (typeof o['cif'] !== 'string' || o['cif'].trim() === '') {
      const why = `${where}: "cif" missing or not a string: counted invalid`;
      if (messages.length < 50) messages.push(why);
      structures.push({ id, cif: null, malformed: why });
      continue;
    }
    structures.push({ id, cif: o['cif'] });
  }
  return { structures, unreadableLines, messages };
}

export function readGeneratedJsonl(path: string): GeneratedFile {
  if (!existsSync(path)) throw new InputError(`generated file ${path} does not exist`);
  let buf = readFileSync(path);
  if (path.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw new InputError(`${path}: not a valid gzip file (${(err as Error).message})`);
    }
  }
  const file = parseGeneratedJsonl(buf.toString('utf8'), path);
  if (file.structures.length === 0) throw new InputError(`${path}: no generated structures (expected JSON Lines with a "cif" field)`);
  return file;
}
