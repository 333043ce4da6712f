import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSplitCache, encodeSplitCache, CacheInvalid } from './cache.js';

const split = {
  dataset: 'perov_5', split: 'test', materialIds: ['a', 'b'],
  atomOffsets: Int32Array.from([0, 2, 3]), atomTypes: Int32Array.from([8, 22, 38]),
  frac: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
  lengths: Float32Array.from([4, 4, 4, 5, 5, 5]), angles: Float32Array.from([90, 90, 90, 60, 60, 60]),
  sourceRows: Int32Array.from([0, 2]),
};
const header = { dataset: 'perov_5', split: 'test', source: { file: 'perov_5/test.csv.gz', gzSize: 10, gzSha256: 'x', rows: 3 }, failures: [{ row: 1, materialId: 'c', reason: 'bad' }], createdAt: 'now', prepareSeconds: 0.1 };

test('encode/decode round trip is exact', () => {
  const bytes = encodeSplitCache(split, header);
  const { split: s, header: h } = decodeSplitCache(bytes, 'x.bin');
  assert.deepEqual(s, split);
  assert.deepEqual(h.failures, header.failures);
  assert.equal(h.count, 2);
});

test('damage is detected with a clear reason', () => {
  const bytes = encodeSplitCache(split, header);
  const flipped = bytes.slice();
  flipped[flipped.length - 5]! ^= 0xff;
  assert.throws(() => decodeSplitCache(flipped, 'x.bin'), (e: unknown) => e instanceof CacheInvalid && /damaged \(checksum/.test(e.message));
  assert.throws(() => decodeSplitCache(bytes.slice(0, bytes.length - 8), 'x.bin'), /truncated or damaged/);
  assert.throws(() => decodeSplitCache(Uint8Array.from([1, 2, 3]), 'x.bin'), /bad magic/);
  const v = bytes.slice();
  new DataView(v.buffer).setUint32(8, 99, true);
  assert.throws(() => decodeSplitCache(v, 'x.bin'), /cache format 99/);
});
