import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intOption, intOptionOr } from './args.js';
import { InputError } from '../util/errors.js';

test('integer options: missing, defaults, bounds and malformed values name the flag', () => {
  assert.equal(intOption('--n', undefined, 1), undefined);
  assert.equal(intOptionOr('--n', undefined, 1, 7), 7);
  assert.equal(intOption('--n', '12', 1), 12);
  assert.equal(intOptionOr('--seed', '0', 0, 42), 0);
  for (const bad of ['0', '-2', '3.5', '1e3', '', 'ten']) {
    assert.throws(() => intOption('--n', bad, 1), (e: unknown) => e instanceof InputError && e.message.startsWith('--n must be an integer >= 1'));
  }
});
