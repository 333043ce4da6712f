/**
 * The pass workspace (./workspace.ts): arrays handed out zeroed (unless asked otherwise) with the
 * requested length, slots reused from pass to pass, and mark/release freeing only what came after
 * the mark. m3gnetBatch with a workspace reused over passes of different shapes is tested in
 * ./fast.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassWorkspace } from './workspace.js';

test('arrays are zeroed, of the requested length, and reused pass after pass', () => {
  const ws = new PassWorkspace();
  ws.begin();
  const a = ws.float(10, false), b = ws.geometry(4), c = ws.int32(3), d = ws.float(5, true);
  assert.ok(a instanceof Float32Array && b instanceof Float64Array && c instanceof Int32Array && d instanceof Float64Array);
  assert.deepEqual([a.length, b.length, c.length, d.length], [10, 4, 3, 5]);
  a.fill(7);
  b.fill(7);
  const held = ws.bytesHeld();
  ws.begin();
  const a2 = ws.float(9, false), b2 = ws.geometry(4);
  assert.equal(a2.buffer, a.buffer, 'the first float32 request of a pass gets the first slot again');
  assert.equal(b2.buffer, b.buffer);
  assert.ok(a2.every((x) => x === 0) && b2.every((x) => x === 0), 'handed out zeroed');
  assert.equal(ws.bytesHeld(), held, 'nothing new allocated when the slots are large enough');
  ws.begin();
  const raw = ws.float(9, false, false);
  assert.equal(raw[0], 0, 'zeroed by the previous pass request');
  raw.fill(3);
  ws.begin();
  assert.equal(ws.float(9, false, false)[0], 3, 'an uninitialised array keeps what was there');
  ws.begin();
  const big = ws.float(1000, false);
  assert.equal(big.length, 1000);
  assert.notEqual(big.buffer, a.buffer, 'a slot too small is replaced');
});

test('mark/release frees the arrays taken after the mark and keeps the earlier ones', () => {
  const ws = new PassWorkspace();
  ws.begin();
  const keep = ws.float(8, false);
  keep.fill(1);
  const m = ws.mark();
  const temp = ws.float(8, false);
  temp.fill(2);
  ws.release(m);
  const next = ws.float(8, false);
  assert.equal(next.buffer, temp.buffer, 'the released slot is handed out again');
  assert.ok(next.every((x) => x === 0));
  assert.ok(keep.every((x) => x === 1), 'arrays taken before the mark are untouched');
});
