/**
 * Adds the SHA-256 checksum (src/network/checkpoint.ts) to kldm tensor files written before it
 * existed (weights.kldm, *.ckpt), rewriting each file atomically with identical tensor bytes,
 * names, shapes, order and metadata, and verifying that bit for bit before it is replaced.
 *
 *   npx tsx scripts/add-checksum.ts models/perov5-cpu-small/weights.kldm runs/x/last.ckpt
 */
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { decodeTensors, saveTensors } from '../src/network/checkpoint.ts';

function dataSection(buf: Buffer): Buffer {
  return buf.subarray(8 + Number(buf.readBigUInt64LE(0)));
}

function headerOf(buf: Buffer): Record<string, { metadata?: unknown }> {
  return JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8')) as Record<string, { metadata?: unknown }>;
}

for (const path of process.argv.slice(2)) {
  const before = readFileSync(path);
  const header = headerOf(before) as Record<string, Record<string, unknown>>;
  if (header['__metadata__']?.['sha256'] !== undefined) {
    console.log(`${path}: already has a checksum`);
    continue;
  }
  const old = decodeTensors(before, path);
  const tmp = `${path}.with-checksum`;
  saveTensors(tmp, old.tensors, old.metadata);
  const after = readFileSync(tmp);
  const again = decodeTensors(after, tmp);
  const same =
    dataSection(before).equals(dataSection(after)) &&
    JSON.stringify(Object.keys(old.tensors)) === JSON.stringify(Object.keys(again.tensors)) &&
    Object.keys(old.tensors).every((k) => JSON.stringify(old.tensors[k]!.shape) === JSON.stringify(again.tensors[k]!.shape)) &&
    JSON.stringify(old.metadata) === JSON.stringify(again.metadata);
  if (!same) {
    rmSync(tmp);
    console.error(`${path}: the rewritten file differs in its tensors or metadata; left unchanged`);
    process.exitCode = 1;
    continue;
  }
  renameSync(tmp, path); // same folder: atomic
  console.log(`${path}: checksum added (${dataSection(after).length} tensor bytes identical, ${Object.keys(again.tensors).length} tensors)`);
}
