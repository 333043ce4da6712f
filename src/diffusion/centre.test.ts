import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLayout } from '../network/types.js';
import { centreInPlace, centredNormal } from './centre.js';
import { Rng } from '../util/rng.js';

test('centreInPlace removes the per-crystal mean of each component', () => {
  const layout = makeLayout([2, 1, 3]);
  const a = new Float64Array([1, 2, 3, 3, 4, 5, 7, 8, 9, 0, 0, 0, 1, 1, 1, 2, -1, 5]);
  centreInPlace(a, layout);
  assert.deepEqual(Array.from(a.subarray(0, 6)), [-1, -1, -1, 1, 1, 1]);
  assert.deepEqual(Array.from(a.subarray(6, 9)), [0, 0, 0]); // single atom -> zero
  // crystal 3: means (1, 0, 2)
  assert.deepEqual(Array.from(a.subarray(9)), [-1, 0, -2, 0, 1, -1, 1, -1, 3]);
});

test('centredNormal is mean-free per crystal and keeps variance (n-1)/n', () => {
  const layout = makeLayout([4, 4, 4, 4]);
  const rng = new Rng(3);
  let sumSq = 0;
  let count = 0;
  const out = new Float64Array(layout.numAtoms * 3);
  for (let rep = 0; rep < 4000; rep++) {
    centredNormal(out, layout, rng);
    for (let g = 0; g < 4; g++)
      for (let d = 0; d < 3; d++) {
        let s = 0;
        for (let i = 4 * g; i < 4 * g + 4; i++) s += out[i * 3 + d]!;
        assert.ok(Math.abs(s) < 1e-12);
      }
    for (const x of out) sumSq += x * x;
    count += out.length;
  }
  // Var of a centred N(0,1) component with n=4 atoms is 3/4; 192k samples -> sd of estimate ~0.0025
  assert.ok(Math.abs(sumSq / count - 0.75) < 0.01, `${sumSq / count}`);
});

test('centreInPlace rejects a mismatched length', () => {
  assert.throws(() => centreInPlace(new Float32Array(5), makeLayout([2])), /length/);
});
