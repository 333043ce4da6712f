import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveTensors, loadTensors, decodeTensors, paramTensors, assignParams } from './checkpoint.js';
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

/** Byte ranges of a saved file by what they hold: length prefix, tensor table, metadata, checksum digits, padding, each tensor. */
function byteClasses(raw: Buffer): Record<string, [number, number]> {
  const n = Number(raw.readBigUInt64LE(0));
  const text = raw.subarray(8, 8 + n).toString('latin1');
  const meta = text.indexOf('"__metadata__"');
  const sha = text.lastIndexOf('"sha256":"') + '"sha256":"'.length;
  const end = text.trimEnd().length;
  const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
  const classes: Record<string, [number, number]> = {
    'length prefix': [0, 8],
    'tensor table': [8, 8 + meta],
    metadata: [8 + meta, 8 + sha],
    'checksum digits': [8 + sha, 8 + sha + 64],
    'after checksum': [8 + sha + 64, 8 + end],
    padding: [8 + end, 8 + n],
  };
  for (const [name, e] of Object.entries(header)) {
    if (name !== '__metadata__' && e.data_offsets[1] > e.data_offsets[0]) classes[`tensor ${name}`] = [8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]];
  }
  return classes;
}

test('a flipped bit anywhere (length prefix, tensor table, metadata, checksum, padding, each tensor) is an error naming the file', () => {
  const p = join(dir, 'flip-source.safetensors');
  // a metadata note of the length that leaves some header padding
  let good = Buffer.alloc(0);
  let classes: Record<string, [number, number]> = {};
  for (let k = 0; k < 8; k++) {
    saveTensors(p, sample, { config: { hidden: 8 }, step: 12, note: 'x'.repeat(k) });
    good = readFileSync(p);
    classes = byteClasses(good);
    if (classes['padding']![1] > classes['padding']![0]) break;
  }
  assert.ok(classes['padding']![1] > classes['padding']![0], 'the sample header needs padding for this test');
  const target = join(dir, 'flipped.safetensors');
  let checked = 0;
  for (const [cls, [from, to]] of Object.entries(classes)) {
    assert.ok(to > from, `byte class ${cls} is empty`);
    for (let pos = from; pos < to; pos++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(good);
        bad[pos] ^= 1 << bit;
        assert.throws(
          () => decodeTensors(bad, target),
          (e: unknown) => e instanceof InputError && e.message.includes(target),
          `${cls}: flipping bit ${bit} of byte ${pos} was not detected`,
        );
        checked++;
      }
    }
  }
  assert.equal(checked, good.length * 8, 'every byte of the file was covered by a class');
  // a flip inside the data that keeps the structure valid is reported as corruption by the checksum
  const dataFlip = Buffer.from(good);
  dataFlip[classes['tensor a']![0] + 1] ^= 0x10;
  writeFileSync(target, dataFlip);
  assert.throws(() => loadTensors(target), /corrupt: its SHA-256 checksum does not match/);
});

test('files written before checksums load, with a one-line note once per file', () => {
  const p = join(dir, 'old.safetensors');
  // the layout of the previous writer: no sha256 entry
  const header = JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, __metadata__: { format: 'kldm', version: '1', json: '{"step":3}' } });
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  const data = Buffer.from(Float32Array.of(1.5, -2).buffer);
  writeFileSync(p, Buffer.concat([len, Buffer.from(padded), data]));
  const notes: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (notes.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const a = loadTensors(p);
    const b = loadTensors(p);
    assert.deepEqual([...a.tensors['a']!.data], [1.5, -2]);
    assert.deepEqual(b.metadata, { step: 3 });
  } finally {
    process.stderr.write = write;
  }
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, new RegExp(`note: .*old\\.safetensors has no checksum`));
  assert.equal(notes[0]!.trim().split('\n').length, 1);
});

test('the checksum is the SHA-256 of the file with its digits zeroed (checked by Python hashlib, layout read with json + numpy)', (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 with numpy is not installed');
    return;
  }
  const p = join(dir, 'py.safetensors');
  saveTensors(p, sample, { note: 'py' });
  const script = `
import hashlib, json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
digest = header['__metadata__']['sha256']
zeroed = raw.replace(('"sha256":"' + digest + '"').encode(), ('"sha256":"' + '0' * 64 + '"').encode())
assert hashlib.sha256(zeroed).hexdigest() == digest, 'checksum differs'
a = header['a']
b, e = a['data_offsets']
print(json.dumps(np.frombuffer(raw[8 + n + b:8 + n + e], dtype='<f4').reshape(a['shape']).tolist()))
`;
  const r = spawnSync('python3', ['-c', script, p], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [[1, 2, 3], [4, 5, -6.5]]);
});
