/**
 * Agreement of kldm's MP2020 corrections (src/thermo/mp2020.ts) with Debian pymatgen's
 * MaterialsProject2020Compatibility on MP-20 structures. Input: the JSON lines written by
 * bench/reference/mp2020_pymatgen.py for a split; prints agreement counts and every kind of
 * disagreement (which adjustments differ), with examples.
 *
 *   /usr/bin/python3 bench/reference/mp2020_pymatgen.py <split csv.gz> > out/mp2020_<split>.jsonl
 *   npx tsx bench/thermo/mp2020-check.ts --split test --pymatgen out/mp2020_test.jsonl [--write-fixture src/thermo/fixtures/mp2020_mp20_test.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSplitSource } from '../../src/data/source.js';
import { readCif } from '../../src/crystal/io/cif.js';
import { mp2020Correction } from '../../src/thermo/mp2020.js';

const { values } = parseArgs({ options: { split: { type: 'string', default: 'test' }, pymatgen: { type: 'string' }, 'write-fixture': { type: 'string' } } });
const ref = new Map<string, { correction?: number; names?: string[]; error?: string }>();
for (const line of readFileSync(values.pymatgen!, 'utf8').trim().split('\n')) {
  const v = JSON.parse(line) as { id: string; correction?: number; names?: string[]; error?: string };
  ref.set(v.id, v);
}
const src = readSplitSource('mp_20', values.split!);
let agree = 0;
let compared = 0;
const kinds = new Map<string, string[]>();
const fixture: { id: string; correction: number; names: string[]; agrees: boolean }[] = [];
const t0 = performance.now();
src.materialIds.forEach((id, k) => {
  const r = ref.get(id);
  if (!r || r.error !== undefined || src.cifs[k] === '') return;
  const s = readCif(src.cifs[k]!);
  const ours = mp2020Correction(s);
  compared++;
  const ok = Math.abs(ours.energy - r.correction!) < 1e-9;
  if (ok) agree++;
  else {
    const a = new Set(ours.adjustments.map((x) => x.name));
    const b = new Set(r.names!);
    const key = `ours only: [${[...a].filter((x) => !b.has(x)).join('; ')}] pymatgen only: [${[...b].filter((x) => !a.has(x)).join('; ')}]`;
    const list = kinds.get(key) ?? [];
    list.push(id);
    kinds.set(key, list);
  }
});
const seconds = (performance.now() - t0) / 1000;
console.log(`MP-20 ${values.split}: ${agree}/${compared} structures with the same MP2020 correction (${((100 * agree) / compared).toFixed(2)} %), ${(compared / seconds).toFixed(0)} structures/s`);
for (const [key, ids] of [...kinds].sort((x, y) => y[1].length - x[1].length)) console.log(`  ${String(ids.length).padStart(5)}  ${key}  e.g. ${ids.slice(0, 4).join(' ')}`);
if (values['write-fixture']) {
  // every disagreement and a spread of agreements per adjustment kind, for the unit test
  const byKind = new Map<string, number>();
  src.materialIds.forEach((id, k) => {
    const r = ref.get(id);
    if (!r || r.error !== undefined || src.cifs[k] === '') return;
    const key = [...r.names!].sort().join('|');
    const n = byKind.get(key) ?? 0;
    const isDisagreement = [...kinds.values()].some((ids) => ids.includes(id));
    if (n < 6 || (isDisagreement && fixture.filter((e) => !e.agrees).length < 40)) {
      // ids only: the structures are MP-20's, read from the installed dataset by the test
      fixture.push({ id, correction: r.correction!, names: r.names!, agrees: !isDisagreement });
      byKind.set(key, n + 1);
    }
  });
  writeFileSync(values['write-fixture'], JSON.stringify({ generator: 'bench/reference/mp2020_pymatgen.py + bench/thermo/mp2020-check.ts', split: values.split, entries: fixture }) + '\n');
  console.log(`fixture: ${fixture.length} structures -> ${values['write-fixture']}`);
}
