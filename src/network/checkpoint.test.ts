import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveTensors, loadTensors, paramTensors, assignParams } from './checkpoint.js';
import { initParams } from './params.js';
import { Rng } from '../util/rng.js';
import { InputError } from '../util/errors.js';
import type { CSPVNetConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'kldm-ckpt-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const sample = {
  a: { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, -6.5) },
  'b.weight': { shape: [1], data: Float32Array.of(Math.PI) },
  empty: { shape: [0, 4], data: new Float32Array(0) },
};

test('round trip keeps names, shapes, values and metadata; the file is safetensors-shaped', () => {
  const p = join(dir, 'x.safetensors');
  saveTensors(p, sample, { config: { hidden: 8 }, step: 12, note: 'ü' });
  const back = loadTensors(p);
  assert.deepEqual(Object.keys(back.tensors).sort(), ['a', 'b.weight', 'empty']);
  assert.deepEqual(back.tensors['a']!.shape, [2, 3]);
  assert.deepEqual([...back.tensors['a']!.data], [1, 2, 3, 4, 5, -6.5]);
  assert.equal(back.tensors['b.weight']!.data[0], Math.fround(Math.PI));
  assert.deepEqual(back.metadata, { config: { hidden: 8 }, step: 12, note: 'ü' });
  const raw = readFileSync(p);
  const n = Number(raw.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header.a, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.equal(raw.length, 8 + n + 28);
  assert.equal(raw.readFloatLE(8 + n + 20), -6.5);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary files left behind');
});

function expectBad(bytes: Buffer, re: RegExp): void {
  const p = join(dir, 'bad.bin');
  writeFileSync(p, bytes);
  assert.throws(() => loadTensors(p), (e: unknown) => e instanceof InputError && re.test(e.message) && e.message.includes(p));
}

test('truncated, corrupt, foreign and future-version files fail with a clear error', () => {
  const p = join(dir, 'ok.safetensors');
  saveTensors(p, sample, {});
  const good = readFileSync(p);
  expectBad(good.subarray(0, 5), /truncated/);
  expectBad(good.subarray(0, good.length - 4), /cover|truncated/);
  expectBad(good.subarray(0, 40), /exceeds|truncated/);
  const longer = Buffer.concat([good, Buffer.from([0, 0, 0, 0])]);
  expectBad(longer, /tensors cover/);
  const corrupt = Buffer.from(good);
  corrupt[10] = 0x7b; // break the JSON
  corrupt[11] = 0x7b;
  expectBad(corrupt, /JSON/);
  const mk = (header: object, dataBytes = 0): Buffer => {
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
  };
  expectBad(mk({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4), /format marker/);
  expectBad(mk({ __metadata__: { format: 'kldm', version: '2' } }), /version 2 is not supported/);
  expectBad(mk({ __metadata__: { format: 'kldm', version: '1' }, x: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2), /dtype F16/);
  expectBad(mk({ __metadata__: { format: 'kldm', version: '1' }, x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4), /needs 8/);
  expectBad(mk({ __metadata__: { format: 'kldm', version: '1' }, x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /gap or overlap/);
  assert.throws(() => loadTensors(join(dir, 'missing.safetensors')), /cannot read/);
});

test('parameters save and load into a store with shape checks', () => {
  const cfg: CSPVNetConfig = { hidden: 8, timeDim: 4, layers: 1, freqs: 2, numTypes: 5, layerNorm: true, zeroCog: true };
  const a = initParams(cfg, new Rng(1));
  const p = join(dir, 'params.safetensors');
  saveTensors(p, paramTensors(a, 'model.'), { config: cfg });
  const b = initParams(cfg, new Rng(2));
  const loaded = loadTensors(p);
  assignParams(b, loaded.tensors, p, 'model.');
  for (let i = 0; i < a.tensors.length; i++) assert.deepEqual([...b.tensors[i]!.data], [...a.tensors[i]!.data]);
  const wide = initParams({ ...cfg, hidden: 16 }, new Rng(3));
  assert.throws(() => assignParams(wide, loaded.tensors, p, 'model.'), /has shape \[.*\], the model needs/);
  assert.throws(() => assignParams(b, loaded.tensors, p, 'ema.'), /missing tensor ema\./);
});
