/**
 * Named-tensor files for training checkpoints and shipped weights: a thin adapter over the
 * engine's safetensors-layout files (src/network/checkpoint.ts: atomic writes, strict checks on
 * truncated or foreign files), presenting the tensors as a Map and the metadata as one JSON value.
 */
import { existsSync } from 'node:fs';
import { loadTensors as loadTensorRecord, saveTensors as saveTensorRecord, type StoredTensor } from '../network/checkpoint.js';
import { KldmError } from '../util/errors.js';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Writes the tensors and metadata atomically. */
export function saveTensors(path: string, tensors: NamedTensor[], metadata: object): void {
  const record: Record<string, StoredTensor> = {};
  for (const t of tensors) {
    if (t.name in record) throw new Error(`saveTensors: duplicate tensor name ${t.name}`);
    record[t.name] = { shape: t.shape, data: t.data };
  }
  saveTensorRecord(path, record, metadata as Record<string, unknown>);
}

/** Reads and validates a tensor file. */
export function loadTensors(path: string): { tensors: Map<string, NamedTensor>; metadata: unknown } {
  if (!existsSync(path)) throw new KldmError(`file not found: ${path}`);
  const { tensors, metadata } = loadTensorRecord(path);
  const map = new Map<string, NamedTensor>();
  for (const [name, t] of Object.entries(tensors)) map.set(name, { name, shape: t.shape, data: t.data });
  return { tensors: map, metadata };
}
