import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTensors, encodeTensors, loadTensors, saveTensors } from './tensorFile.js';

test('tensors and metadata round-trip exactly', () => {
  const a = { name: 'w', shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, NaN, Infinity, 0.1]) };
  const b = { name: 'empty', shape: [0], data: new Float32Array(0) };
  const c = { name: 'x.y', shape: [1], data: Float32Array.from([7]) };
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-tf-')), 't.ckpt');
  saveTensors(path, [a, b, c], { hello: [1, 'two'] });
  const r = loadTensors(path);
  assert.deepEqual(r.metadata, { hello: [1, 'two'] });
  assert.deepEqual(r.tensors.get('w')!.shape, [2, 3]);
  assert.ok(Buffer.from(r.tensors.get('w')!.data.buffer).equals(Buffer.from(a.data.buffer)));
  assert.equal(r.tensors.get('empty')!.data.length, 0);
  assert.equal(r.tensors.get('x.y')!.data[0], 7);
});

test('truncated, corrupted or foreign files are rejected with the file name', () => {
  const buf = encodeTensors([{ name: 'w', shape: [4], data: Float32Array.from([1, 2, 3, 4]) }], {});
  assert.throws(() => decodeTensors(buf.subarray(0, buf.length - 4), 'f.ckpt'), /f\.ckpt: .*truncated/);
  const bad = Buffer.from(buf);
  bad[bad.length - 1]! ^= 0xff;
  assert.throws(() => decodeTensors(bad, 'f.ckpt'), /checksum mismatch/);
  assert.throws(() => decodeTensors(Buffer.from('hello world, not a checkpoint'), 'g.bin'), /g\.bin: not a valid kldm tensor file \(bad magic/);
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-tf-')), 'x');
  writeFileSync(path, buf);
  assert.equal(readFileSync(path).length, buf.length);
  assert.throws(() => loadTensors(path + '.missing'), /file not found/);
  assert.throws(() => encodeTensors([{ name: 'a', shape: [3], data: new Float32Array(2) }], {}), /shape/);
});
