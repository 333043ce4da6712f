import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRateAt } from './lrSchedule.js';

const base = { lr: 1e-3, warmupSteps: 0, decaySteps: 0, minLrRatio: 0.01 };

test('the default schedule is the spec §8 constant rate', () => {
  for (const step of [0, 1, 10, 1e6]) assert.equal(learningRateAt(step, base), 1e-3);
});

test('warm-up ramps linearly to lr: step s gets lr·(s+1)/W, then lr', () => {
  const o = { ...base, warmupSteps: 4 };
  assert.deepEqual([0, 1, 2, 3, 4, 100].map((s) => learningRateAt(s, o)), [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]);
});

test('cosine decay after the warm-up: lr at its start, the mean of lr and the floor half-way, the floor at the end and after', () => {
  const o = { ...base, warmupSteps: 10, decaySteps: 100, minLrRatio: 0.1 };
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);
  close(learningRateAt(10, o), 1e-3);
  close(learningRateAt(60, o), 0.5 * (1e-3 + 1e-4));
  close(learningRateAt(35, o), 1e-4 + 0.9e-3 * 0.5 * (1 + Math.SQRT1_2)); // a quarter of the way: cos(π/4)
  close(learningRateAt(110, o), 1e-4);
  close(learningRateAt(10_000, o), 1e-4);
  // monotone non-increasing after the warm-up
  for (let s = 10; s < 120; s++) assert.ok(learningRateAt(s + 1, o) <= learningRateAt(s, o));
});
