/**
 * evaluateDng on a small generated-like set built from Perov-5 test structures, with hand-checkable
 * expectations: exact copies, a duplicate, an atom pushed onto another (structurally invalid), a
 * SMACT-invalid swap, an unreadable CIF and a line without CIF; a 4-structure reference set and a
 * 2-structure "training split".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Structure } from '../../crystal/types.js';
import { writeCif } from '../../crystal/io/cif.js';
import { readSplitSource } from '../../data/source.js';
import { loadFerrox, readCifForMatching } from '../cifReader.js';
import { evaluateDng, sampleIndices, type GeneratedInput } from './evaluate.js';
import { evaluateCrystal } from './crystalRecord.js';
import { loadMagpie } from './magpie.js';
import { wasserstein1 } from './wasserstein.js';
import { parseGeneratedJsonl } from './generatedFile.js';
import { MAGPIE_SKIP_MESSAGE, testMagpieDir } from './testAssets.js';
import type { ReferenceSet } from './referenceSet.js';

test('sampleIndices: k distinct indices, reproducible for a seed', () => {
  const a = sampleIndices(50, 20, 7);
  assert.equal(new Set(a).size, 20);
  assert.ok(a.every((i) => i >= 0 && i < 50));
  assert.deepEqual(sampleIndices(50, 20, 7), a);
  assert.notDeepEqual(sampleIndices(50, 20, 8), a);
  assert.deepEqual([...sampleIndices(5, 5, 1)].sort(), [0, 1, 2, 3, 4]);
});

test('generated JSONL: ids, missing CIF kept as invalid, bad lines counted', () => {
  const f = parseGeneratedJsonl(['{"id":"a","cif":"x"}', '{"material_id":7,"cif":""}', 'not json', '{"cif":"y"}', ''].join('\n'), 'g.jsonl');
  assert.deepEqual(f.structures.map((s) => [s.id, s.cif]), [['a', 'x'], ['7', null], ['line4', 'y']]);
  assert.equal(f.unreadableLines, 1);
});

test('evaluateDng on a hand-built generated set', async (t) => {
  const dir = testMagpieDir();
  if (dir === null) {
    t.skip(MAGPIE_SKIP_MESSAGE);
    return;
  }
  const magpie = loadMagpie(dir);
  await loadFerrox();
  const src = readSplitSource('perov_5', 'test');
  const base = [0, 1, 2, 3, 4, 5].map((i) => readCifForMatching(src.cifs[i]!, `perov_5 test ${i}`));
  // atom 1 moved onto atom 0: distance 0 < 0.5 Å → structurally invalid
  const crushed: Structure = { ...base[4]!, frac: Float64Array.from(base[4]!.frac) };
  crushed.frac.set([base[4]!.frac[0]! + 0.01, base[4]!.frac[1]!, base[4]!.frac[2]!], 3);
  // every anion replaced by a cation (no charge-neutral assignment): SMACT-invalid, structure fine
  const swapped: Structure = { ...base[5]!, species: base[5]!.species.map(() => 'Na').map((e, i) => (i === 0 ? 'Cl' : e)) };
  const generated: GeneratedInput[] = [
    { id: 'copy0', cif: writeCif(base[0]!) },
    { id: 'copy1', cif: writeCif(base[1]!) },
    { id: 'copy0-again', cif: writeCif(base[0]!) },
    { id: 'copy2', cif: writeCif(base[2]!) },
    { id: 'crushed', cif: writeCif(crushed) },
    { id: 'swapped', cif: writeCif(swapped) },
    { id: 'garbage', cif: 'data_x\n_cell_length_a 3\n' },
    { id: 'missing', cif: null, malformed: 'no cif' },
  ];
  // reference: base[0], base[1], base[3] (base[3] is never generated) + base[2]
  const refStructs = [base[0]!, base[1]!, base[3]!, base[2]!];
  const refRecs = refStructs.map((s) => evaluateCrystal(s, magpie));
  const reference: ReferenceSet = {
    dataset: 'perov_5', split: 'test', materialIds: ['r0', 'r1', 'r3', 'r2'],
    fingerprints: refRecs.map((r) => r.fingerprints), densities: Float64Array.from(refRecs.map((r) => r.density)),
    nElements: Float64Array.from(refRecs.map((r) => r.nElements)), failures: [],
  };
  const r = await evaluateDng(generated, {
    dataset: 'perov_5', magpie, reference, train: [base[1]!, base[5]!], nSamples: 3, seed: 1,
    // tiny cut-offs: only exact copies are "covered", so the expectations can be counted by hand
    cutoffs: { struct: 1e-9, comp: 1e-9 },
  });
  const by = new Map(r.structures.map((s) => [s.id, s]));
  assert.equal(r.counts.generated, 8);
  assert.equal(r.counts.constructed, 6); // garbage and missing cannot be read
  // valid: copy0, copy1, copy0-again, copy2 (crushed: structure; swapped: SMACT)
  assert.equal(r.counts.valid, 4);
  assert.equal(by.get('crushed')!.structValid, false);
  assert.equal(by.get('crushed')!.compValid, true);
  assert.equal(by.get('swapped')!.compValid, false);
  assert.equal(by.get('swapped')!.structValid, true);
  assert.equal(r.validity.struct, 5 / 8);
  assert.equal(r.validity.comp, 5 / 8);
  assert.equal(r.validity.overall, 4 / 8);
  // coverage: references r0, r1, r2 have an exact generated copy, r3 none → COV-R 3/4;
  // generated with an exact reference copy: copy0, copy1, copy0-again, copy2 → COV-P 4/8 (denominator: all generated).
  // crushed and swapped are fingerprinted as DiffCSP does (they are not copies, so not covered).
  assert.equal(r.coverage!.covRecall, 3 / 4);
  assert.equal(r.coverage!.covPrecision, 4 / 8);
  assert.ok(by.get('copy0')!.nearestStructDist! < 1e-12 && by.get('copy0')!.nearestCompDist! < 1e-12);
  assert.ok(by.get('crushed')!.nearestStructDist !== null);
  // distances: all four valid vs the four references
  const dens = ['copy0', 'copy1', 'copy0-again', 'copy2'].map((id) => by.get(id)!.density!);
  assert.ok(Math.abs(r.wasserstein.allValid!.density - wasserstein1(dens, [...reference.densities])) < 1e-15);
  assert.equal(r.wasserstein.allValid!.n, 4);
  assert.equal(r.wasserstein.sampled!.n, 3);
  // uniqueness: copy0-again duplicates copy0 (index 0)
  assert.equal(by.get('copy0-again')!.duplicateOf, 0);
  assert.equal(by.get('copy1')!.duplicateOf, -1);
  assert.equal(r.uniqueness!.uniqueValid, 3);
  // novelty: copy1 is in the training split (train-0)
  assert.equal(by.get('copy1')!.trainMatch, 'train-0');
  assert.equal(by.get('copy0')!.trainMatch, '');
  assert.equal(r.novelty!.novelValid, 3);
  assert.equal(r.novelty!.uniqueNovelValid, 2); // copy0 and copy2 (copy0-again is a duplicate, copy1 not novel)
  assert.equal(r.novelty!.uniqueNovelOfGenerated, 2 / 8);
  // KLDM's variant: crushed/swapped leave COV (no change here: they were not covered), denominators unchanged
  const kldm = await evaluateDng(generated, { dataset: 'perov_5', magpie, reference, train: [], cutoffs: { struct: 1e-9, comp: 1e-9 }, coverageValidOnly: true, skipMatching: true });
  assert.equal(kldm.coverage!.covPrecision, 4 / 8);
  assert.equal(kldm.structures.find((s) => s.id === 'crushed')!.nearestStructDist, null);
  // invalid ones carry a reason
  assert.match(by.get('crushed')!.reason!, /distance/);
  assert.equal(by.get('missing')!.reason, 'no cif');
});
