/**
 * The DNG fingerprints against Debian pymatgen 2022.11.7 (bench/reference/dng_fingerprints.py): for every
 * fixture structure (Perov-5, Carbon-24, MP-20, MPTS-52 test structures, randomly perturbed copies and
 * random "garbage" structures, some of which pymatgen cannot fingerprint) the 61 CrystalNN "ops" features (mean over sites) and the 132 magpie features agree to 1e-6 each,
 * density to 1e-9 relative, the element count exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Matrix3, Structure } from '../../crystal/types.js';
import { OPS_FEATURE_LABELS, structureOpsFingerprint } from './crystalNNFingerprint.js';
import { loadMagpie, magpieFingerprint, MAGPIE_PROPERTIES, MAGPIE_STATS } from './magpie.js';
import { densityGcm3, distinctElements } from './structureStats.js';
import { MAGPIE_SKIP_MESSAGE, testMagpieDir } from './testAssets.js';

interface FixtureRecord {
  dataset: string;
  id: string;
  lattice: number[];
  species: string[];
  frac: number[];
  density: number;
  nElements: number;
  ops: number[] | null;
  opsError?: string;
  magpie: Array<number | null>;
}

const fixture = JSON.parse(gunzipSync(readFileSync(new URL('../../../bench/reference/fixtures/dng_fingerprints.json.gz', import.meta.url))).toString('utf8')) as { records: FixtureRecord[] };
const structureOf = (r: FixtureRecord): Structure => ({ lattice: r.lattice as Matrix3, species: r.species, frac: Float64Array.from(r.frac) });

test('fixture covers >= 200 structures from four datasets plus perturbed and random ones', () => {
  assert.ok(fixture.records.length >= 200);
  const datasets = new Set(fixture.records.map((r) => r.dataset));
  for (const d of ['perov_5', 'carbon_24', 'mp_20', 'mpts_52', 'random']) assert.ok(datasets.has(d), d);
  assert.ok([...datasets].some((d) => d.endsWith('_perturbed')));
});

/**
 * The one explained exception: pymatgen's "bcc" order parameter is not symmetric in its neighbours (pairs
 * (j, k) count only for j < k, and the azimuth of m is measured from the meridian through k), so it
 * depends on the neighbour order. pymatgen orders CrystalNN neighbours by weight, and neighbours of equal
 * weight (symmetry-equivalent ones, equal up to float noise) stay in qhull's ridge order, which no other
 * Voronoi construction reproduces. Shuffling the 8 neighbours of one MP-20 site moves pymatgen's own value
 * by up to 0.05; times the CN-8 probability this gives feature differences up to ~1e-4 on 3 of 240
 * fixture structures. Every other feature is order-independent (sums or maxima over all pairs) and must
 * agree to 1e-6.
 */
const BCC_LABEL = 'body-centered cubic CN_8';
const BCC_TOLERANCE = 1e-3;

test('CrystalNN "ops" structure fingerprints match pymatgen to 1e-6 per feature (bcc: see above)', () => {
  let worst = 0;
  let worstBcc = 0;
  let bccOff = 0;
  let compared = 0;
  let failures = 0;
  for (const r of fixture.records) {
    if (r.ops === null) {
      failures++;
      assert.throws(() => structureOpsFingerprint(structureOf(r)), Error, `${r.dataset} ${r.id}: pymatgen failed (${r.opsError}) but the port did not`);
      continue;
    }
    const fp = structureOpsFingerprint(structureOf(r));
    assert.equal(fp.length, 61);
    let bccDiffers = false;
    for (let k = 0; k < 61; k++) {
      const d = Math.abs(fp[k]! - r.ops[k]!);
      const bcc = OPS_FEATURE_LABELS[k] === BCC_LABEL;
      if (bcc) {
        worstBcc = Math.max(worstBcc, d);
        if (d > 1e-6) bccDiffers = true;
      } else worst = Math.max(worst, d);
      assert.ok(d <= (bcc ? BCC_TOLERANCE : 1e-6), `${r.dataset} ${r.id} ${OPS_FEATURE_LABELS[k]}: ${fp[k]} vs pymatgen ${r.ops[k]}`);
    }
    if (bccDiffers) bccOff++;
    compared++;
  }
  assert.ok(compared >= 200, `${compared} structures compared`);
  console.log(`${failures} fixture structures that pymatgen cannot fingerprint also fail here`);
  assert.ok(bccOff <= 0.05 * compared, `bcc feature off by > 1e-6 on ${bccOff} structures`);
  console.log(`ops fingerprints: ${compared} structures, worst |difference| ${worst.toExponential(2)} (60 features), bcc ${worstBcc.toExponential(2)} (> 1e-6 on ${bccOff})`);
});

test('density and number of elements match pymatgen', () => {
  for (const r of fixture.records) {
    const s = structureOf(r);
    assert.ok(Math.abs(densityGcm3(s) / r.density - 1) < 1e-9, `${r.id}: ${densityGcm3(s)} vs ${r.density}`);
    assert.equal(distinctElements(s), r.nElements);
  }
});

test('magpie ElementProperty features match the reference to 1e-6 (NaN where matminer gives NaN)', (t) => {
  const dir = testMagpieDir();
  if (dir === null) {
    t.skip(MAGPIE_SKIP_MESSAGE);
    return;
  }
  const tables = loadMagpie(dir);
  for (const r of fixture.records) {
    const fp = magpieFingerprint(tables, r.species);
    for (let k = 0; k < fp.length; k++) {
      const ref = r.magpie[k];
      const label = `${r.id} ${MAGPIE_PROPERTIES[Math.floor(k / 6)]} ${MAGPIE_STATS[k % 6]}`;
      if (ref === null) assert.ok(Number.isNaN(fp[k]!), `${label}: expected NaN, got ${fp[k]}`);
      else assert.ok(Math.abs(fp[k]! - ref) <= 1e-6, `${label}: ${fp[k]} vs ${ref}`);
    }
  }
});
