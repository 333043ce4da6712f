import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIntegerRuns } from './integerRuns.js';

test('formatIntegerRuns writes runs of consecutive integers as a-b', () => {
  assert.equal(formatIntegerRuns([]), '');
  assert.equal(formatIntegerRuns([5]), '5');
  assert.equal(formatIntegerRuns([1, 2, 3, 5, 7, 8]), '1-3, 5, 7-8');
  assert.equal(formatIntegerRuns([2, 4, 6]), '2, 4, 6');
  // every integer of the written runs, read back, is the input (1..20 with holes, as MP-20's counts)
  const counts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20];
  const back = formatIntegerRuns(counts).split(', ').flatMap((p) => {
    const [a, b] = p.split('-').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, k) => a! + k);
  });
  assert.deepEqual(back, counts);
});
