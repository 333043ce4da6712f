// Slow: CIF round trip over every split of every dataset in data/.
import { test } from 'node:test';
import { assertRoundTrip } from './roundtrip.test.js';
import { readSplitSource } from '../../data/source.js';
import { listDatasets } from '../../data/registry.js';

for (const d of listDatasets()) {
  for (const s of d.splits) {
    test(`${d.name} ${s.split}: every structure survives read -> write -> read`, () => {
      const src = readSplitSource(d.name, s.split);
      for (let i = 0; i < src.cifs.length; i++) assertRoundTrip(src.cifs[i]!, `${d.name} ${s.split} row ${i} (${src.materialIds[i]})`);
    });
  }
}
