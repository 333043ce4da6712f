/** All 12 MP-20 fixture structures (4 to 18 atoms) against the PyTorch reference; see m3gnet-fixture.test.ts. */
import { test } from 'node:test';
import { checkAgainstTorch } from './testFixture.js';
import { skipWithoutWeights } from './testWeights.js';

test('energies, forces and stresses of all 12 MP-20 fixture structures equal the PyTorch autograd reference', { skip: skipWithoutWeights() }, () => {
  checkAgainstTorch(() => true);
});
