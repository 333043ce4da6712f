import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wrap1, wrap2pi, wrapPeriod, mod1, wrap1InPlace } from './wrap.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('wrap1 reproduces the §14.7 vectors', () => {
  close(wrap1(0.75), -0.25);
  close(wrap1(-0.6), 0.4);
  close(wrap1(0.5), 0.5); // endpoint convention (−½, ½] (§13.19)
  close(wrap1(1.25), 0.25);
});

test('wrap2π and wrap_P agree with a floor-based modulo away from the endpoint', () => {
  for (let k = 0; k < 200; k++) {
    const y = -20 + 0.2017 * k;
    const ref = y - 2 * Math.PI * Math.floor((y + Math.PI) / (2 * Math.PI));
    close(wrap2pi(y), ref, 1e-12);
    close(wrapPeriod(y, 3), y - 3 * Math.floor((y + 1.5) / 3), 1e-12);
  }
  close(wrap2pi(Math.PI), Math.PI);
});

test('mod1 maps into [0,1) and wrap1InPlace works element-wise', () => {
  assert.equal(mod1(-0.25), 0.75);
  assert.equal(mod1(1.5), 0.5);
  assert.equal(mod1(-1e-20), 0); // 1 - 1e-20 rounds to 1 -> 0
  const a = wrap1InPlace(new Float64Array([0.75, -0.6]));
  close(a[0]!, -0.25);
  close(a[1]!, 0.4);
});
