/**
 * The torch.save reader against files written by PyTorch itself (Debian python3-torch,
 * bench/reference/m3gnet.py): a tiny state_dict with strided views, offsets, float64
 * and int64 (committed, 1.7 kB), and the M3GNet weights' names, shapes and sums.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTorchStateDict, readTorchStateDict } from './torchzip.js';
import { M3GNET_TEST_MODEL_JSON, M3GNET_TEST_WEIGHTS, skipWithoutWeights } from './testWeights.js';
import { InputError } from '../util/errors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

test('reads a PyTorch-written state_dict with views, offsets, float64 and int64 exactly', () => {
  const sd = readTorchStateDict(join(fixtures, 'tiny_state.pt'));
  const want = JSON.parse(readFileSync(join(fixtures, 'tiny_state.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; data: number[] }>;
  assert.deepEqual([...sd.keys()], Object.keys(want));
  for (const [name, w] of Object.entries(want)) {
    const t = sd.get(name)!;
    assert.equal(t.dtype, w.dtype, name);
    assert.deepEqual(t.shape, w.shape, name);
    const got = t.data instanceof BigInt64Array ? [...t.data].map(Number) : [...t.data];
    assert.deepEqual(got, w.data, name);
  }
});

test('refuses a file that is not a torch zip, a truncated one, and a pickle that calls other code', () => {
  assert.throws(() => parseTorchStateDict(new Uint8Array(100), 'junk'), InputError);
  const bytes = readFileSync(join(fixtures, 'tiny_state.pt'));
  assert.throws(() => parseTorchStateDict(bytes.subarray(0, bytes.length - 30), 'cut'), /zip/);
  // Rewrite the global 'torch._utils\n_rebuild_tensor_v2' to another callable of the same length.
  const evil = Buffer.from(bytes);
  const at = evil.indexOf('_rebuild_tensor_v2');
  assert.ok(at > 0);
  evil.write('os_system_tensor_x', at);
  assert.throws(() => parseTorchStateDict(evil, 'evil'), /refusing to load/);
});

test('M3GNet weights: 115 tensors whose shapes and sums equal what PyTorch reads', { skip: skipWithoutWeights() }, () => {
  const sd = readTorchStateDict(M3GNET_TEST_WEIGHTS);
  const stats = JSON.parse(readFileSync(join(fixtures, 'm3gnet_state_stats.json'), 'utf8')) as Record<string, { shape: number[]; sum: number; sumsq: number; first: number; last: number }>;
  assert.equal(sd.size, 115);
  assert.deepEqual([...sd.keys()], Object.keys(stats));
  for (const [name, s] of Object.entries(stats)) {
    const t = sd.get(name)!;
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.shape, s.shape, name);
    const x = t.data as Float32Array;
    let sum = 0, sumsq = 0;
    for (const v of x) { sum += v; sumsq += v * v; }
    assert.equal(x[0], s.first, name);
    assert.equal(x[x.length - 1], s.last, name);
    assert.ok(Math.abs(sum - s.sum) <= 1e-9 * Math.max(1, Math.abs(sumsq)), `${name}: sum ${sum} vs ${s.sum}`);
    assert.ok(Math.abs(sumsq - s.sumsq) <= 1e-9 * Math.max(1, sumsq), `${name}: sumsq ${sumsq} vs ${s.sumsq}`);
  }
});

test('M3GNet weights agree with the hyper-parameter file: data_std and the 89 element reference energies', { skip: skipWithoutWeights() }, () => {
  const sd = readTorchStateDict(M3GNET_TEST_WEIGHTS);
  const kw = (JSON.parse(readFileSync(M3GNET_TEST_MODEL_JSON, 'utf8')) as { kwargs: { data_std: string; element_refs: string } }).kwargs;
  const nums = (s: string) => [...s.matchAll(/-?\d+\.\d+/g)].map((m) => Number(m[0]));
  assert.ok(Math.abs((sd.get('data_std')!.data as Float32Array)[0]! - nums(kw.data_std)[0]!) < 1e-6);
  const refs = nums(kw.element_refs);
  const offset = sd.get('element_refs.property_offset')!.data as Float32Array;
  assert.equal(refs.length, 89);
  for (let i = 0; i < 89; i++) assert.ok(Math.abs(offset[i]! - refs[i]!) < 1e-6 * Math.max(1, Math.abs(refs[i]!)), `element ref ${i}`);
});
