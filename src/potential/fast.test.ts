/**
 * The batched kernel path (./fast.ts) against the float64 reference (./m3gnet.ts): exactly (1e-12)
 * in float64 on the TypeScript reference kernels, and within float32 accuracy on the native
 * kernels, for a batch of MP-20 fixture structures of different sizes evaluated together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Matrix3, Structure } from '../crystal/types.js';
import { loadNativeKernels } from '../engine/native.js';
import { referenceKernels } from '../engine/reference.js';
import { m3gnetBatch } from './fast.js';
import { PassWorkspace } from './workspace.js';
import { m3gnetStructure } from './m3gnet.js';
import { M3GNET_TEST_WEIGHTS, skipWithoutWeights } from './testWeights.js';
import { loadM3GNet, type M3GNetModel } from './weights.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(join(here, '..', '..', 'bench', 'reference', 'fixtures', 'm3gnet_mp20.json'), 'utf8')) as {
  structures: { lattice: number[]; species: string[]; frac: number[] }[];
};
const batch: Structure[] = fixture.structures
  .filter((s) => s.species.length <= 6)
  .map((s) => ({ lattice: s.lattice as Matrix3, species: s.species, frac: Float64Array.from(s.frac) }));
const skip = skipWithoutWeights();
let cached: M3GNetModel | null = null;
const model = () => (cached ??= loadM3GNet(M3GNET_TEST_WEIGHTS));

function compare(tolE: number, tolF: number, got: ReturnType<typeof m3gnetBatch>): void {
  assert.equal(got.length, batch.length);
  batch.forEach((s, k) => {
    const want = m3gnetStructure(model(), s);
    const r = got[k]!;
    assert.equal(r.nBonds, want.nBonds);
    assert.equal(r.nTriples, want.nTriples);
    assert.ok(Math.abs(r.energy - want.energy) <= tolE * Math.abs(want.energy), `structure ${k}: E ${r.energy} vs ${want.energy}`);
    const fScale = Math.max(...want.forces.map(Math.abs));
    want.forces.forEach((f, q) => assert.ok(Math.abs(r.forces[q]! - f) <= tolF * fScale, `structure ${k}: F[${q}] ${r.forces[q]} vs ${f}`));
    const sScale = Math.max(...want.stress!.map(Math.abs));
    want.stress!.forEach((x, q) => assert.ok(Math.abs(r.stress![q]! - x) <= tolF * sScale, `structure ${k}: stress[${q}] ${r.stress![q]} vs ${x}`));
  });
}

test('batched float64 path on the reference kernels equals the float64 reference', { skip }, () => {
  compare(1e-12, 1e-10, m3gnetBatch(model(), batch, { kernels: referenceKernels, float64: true }));
});

const native = loadNativeKernels();
test('batched float32 path on the native kernels is within float32 accuracy of the float64 reference', { skip: skip || (native ? false : 'native engine not built') }, () => {
  compare(1e-6, 1e-4, m3gnetBatch(model(), batch, { kernels: native!.kernels }));
});

test('a batch cut into passes of at most 8 atoms gives the same results as one pass', { skip }, () => {
  const whole = m3gnetBatch(model(), batch, { kernels: referenceKernels, float64: true });
  const cut = m3gnetBatch(model(), batch, { kernels: referenceKernels, float64: true, maxAtomsPerPass: 8 });
  assert.equal(cut.length, whole.length);
  cut.forEach((r, k) => {
    assert.ok(Math.abs(r.energy - whole[k]!.energy) < 1e-12 * Math.abs(r.energy));
    r.forces.forEach((f, q) => assert.ok(Math.abs(f - whole[k]!.forces[q]!) < 1e-12));
  });
  assert.throws(() => m3gnetBatch(model(), batch, { maxAtomsPerPass: 0 }), /maxAtomsPerPass/);
});

test('a workspace reused over passes of different shapes gives the same results as fresh arrays', { skip }, () => {
  const ws = new PassWorkspace();
  const whole = m3gnetBatch(model(), batch, { kernels: referenceKernels, float64: true });
  for (const maxAtomsPerPass of [512, 8, 512]) {
    const again = m3gnetBatch(model(), batch, { kernels: referenceKernels, float64: true, maxAtomsPerPass, workspace: ws });
    again.forEach((r, k) => {
      assert.ok(Math.abs(r.energy - whole[k]!.energy) < 1e-12 * Math.abs(r.energy));
      r.forces.forEach((f, q) => assert.ok(Math.abs(f - whole[k]!.forces[q]!) < 1e-12));
      r.stress!.forEach((x, q) => assert.ok(Math.abs(x - whole[k]!.stress![q]!) < 1e-12));
    });
  }
  if (native) {
    const fresh = m3gnetBatch(model(), batch, { kernels: native.kernels });
    m3gnetBatch(model(), batch.slice(1), { kernels: native.kernels, workspace: ws }); // leaves other values in the slots
    const reused = m3gnetBatch(model(), batch, { kernels: native.kernels, workspace: ws });
    reused.forEach((r, k) => {
      assert.equal(r.energy, fresh[k]!.energy, 'float32 results do not depend on what the workspace held');
      assert.deepEqual([...r.forces], [...fresh[k]!.forces]);
    });
  }
});

test('an empty batch and a float64 request on float32-only kernels', { skip }, () => {
  assert.deepEqual(m3gnetBatch(model(), [], { kernels: referenceKernels }), []);
  if (native) assert.throws(() => m3gnetBatch(model(), batch, { kernels: native.kernels, float64: true }), /float32/);
});
