/**
 * The TypeScript float64 M3GNet against the PyTorch autograd reference on the small MP-20
 * fixture cells (<= 6 atoms); m3gnet-fixture.slow.test.ts checks all 12 (see ./testFixture.ts).
 */
import { test } from 'node:test';
import { checkAgainstTorch } from './testFixture.js';
import { skipWithoutWeights } from './testWeights.js';

// The fast suite checks the small cells (<= 6 atoms); m3gnet-fixture.slow.test.ts checks all 12.
test('energies, forces and stresses of the small MP-20 fixture cells equal the PyTorch autograd reference', { skip: skipWithoutWeights() }, () => {
  checkAgainstTorch((s) => s.species.length <= 6);
});
