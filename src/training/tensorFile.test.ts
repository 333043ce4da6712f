import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTensors, saveTensors } from './tensorFile.js';

test('tensors and metadata round-trip exactly through the adapter', () => {
  const a = { name: 'param/w', shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, NaN, Infinity, 0.1]) };
  const b = { name: 'optim/empty', shape: [0], data: new Float32Array(0) };
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-tf-')), 't.ckpt');
  saveTensors(path, [a, b], { hello: [1, 'two'], nested: { x: null } });
  const r = loadTensors(path);
  assert.deepEqual(r.metadata, { hello: [1, 'two'], nested: { x: null } });
  assert.deepEqual(r.tensors.get('param/w')!.shape, [2, 3]);
  assert.ok(Buffer.from(r.tensors.get('param/w')!.data.buffer).equals(Buffer.from(a.data.buffer)));
  assert.equal(r.tensors.get('optim/empty')!.data.length, 0);
  assert.throws(() => saveTensors(path, [a, a], {}), /duplicate tensor name/);
});

test('missing and truncated files are rejected with the file name', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-tf-')), 'x.ckpt');
  saveTensors(path, [{ name: 'w', shape: [4], data: Float32Array.from([1, 2, 3, 4]) }], {});
  const buf = readFileSync(path);
  writeFileSync(path, buf.subarray(0, buf.length - 4));
  assert.throws(() => loadTensors(path), /x\.ckpt: not a valid kldm tensor file/);
  assert.throws(() => loadTensors(path + '.missing'), /file not found/);
});
