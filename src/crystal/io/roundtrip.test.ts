// CIF round trips on the benchmark data (issue #2): read -> write CIF -> read
// keeps the lattice (1e-6) and coordinates (1e-6 mod 1) and the site order.
// Fast set: every Perov-5 test structure and a fixed sample of 300 MP-20 rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCif, writeCif } from './cif.js';
import { readSplitSource } from '../../data/source.js';

export function assertRoundTrip(cif: string, where: string): void {
  const a = readCif(cif, { source: where });
  const b = readCif(writeCif(a), { source: `${where} (rewritten)` });
  assert.deepEqual(b.species, a.species, where);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(a.lattice[i]! - b.lattice[i]!) <= 1e-6, `${where}: lattice[${i}] ${a.lattice[i]} vs ${b.lattice[i]}`);
  for (let i = 0; i < a.frac.length; i++) {
    let d = a.frac[i]! - b.frac[i]!;
    d -= Math.round(d);
    assert.ok(Math.abs(d) <= 1e-6, `${where}: coordinate ${i}`);
  }
}

test('every Perov-5 test structure survives read -> write -> read', () => {
  const src = readSplitSource('perov_5', 'test');
  assert.equal(src.cifs.length, 3785);
  for (let i = 0; i < src.cifs.length; i++) assertRoundTrip(src.cifs[i]!, `perov_5 test row ${i} (${src.materialIds[i]})`);
});

test('a fixed sample of 300 MP-20 structures (every 90th train row) survives the round trip', () => {
  const src = readSplitSource('mp_20', 'train');
  let n = 0;
  for (let i = 0; i < src.cifs.length && n < 300; i += 90, n++) assertRoundTrip(src.cifs[i]!, `mp_20 train row ${i}`);
  assert.equal(n, 300);
});
