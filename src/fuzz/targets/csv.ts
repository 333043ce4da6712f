/**
 * CSV datasets: parseCsv (src/data/csv.ts) and the user's CSV of compositions read by
 * `kldm sample --dataset-csv` (src/predict/csvTargets.ts: optional gzip, material_id and cif
 * columns, one CIF per row), on generated tables (written with RFC 4180 quoting, which must read
 * back exactly), mutated CSVs of dataset rows, and mutated gzip streams of them.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { parseCsv } from '../../data/csv.js';
import { csvTargetsFromBytes } from '../../predict/csvTargets.js';
import { datasetCifs } from '../corpus.js';
import { FuzzViolation, type FuzzTarget } from '../harness.js';
import { mutatedBytes, mutatedText } from '../mutate.js';

function quote(field: string, always: boolean): string {
  // a leading U+FEFF unquoted at the start of the file is a byte-order mark, not data
  return always || /[",\r\n]/.test(field) || field.startsWith('\uFEFF') ? `"${field.replace(/"/g, '""')}"` : field;
}

function writeCsv(rows: string[][], eol: string, quoteAll: boolean): string {
  return rows.map((r) => r.map((f) => quote(f, quoteAll)).join(',')).join(eol) + eol;
}

type CsvInput =
  | { kind: 'table'; rows: string[][]; eol: string; quoteAll: boolean; bom: boolean }
  | { kind: 'file'; bytes: Uint8Array; gz: boolean };

const field = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '"', '""', ',', '\n', '\r\n', '\r', ' a ', 'x"y', '\uFEFF'));

let csvCorpus: string[] = [];
let gzCorpus: Uint8Array[] = [];

export const csvFuzzTarget: FuzzTarget<CsvInput> = {
  name: 'csv',
  description: 'parseCsv round trips of generated tables; --dataset-csv reading (gzip, columns, CIFs) of mutated dataset CSVs and gzip streams',
  setup() {
    const rows = datasetCifs();
    csvCorpus = [];
    for (let i = 0; i + 3 <= rows.length && csvCorpus.length < 60; i += 3) {
      const part = rows.slice(i, i + 3);
      csvCorpus.push(writeCsv([['', 'material_id', 'cif'], ...part.map((r, k) => [String(k), r.materialId, r.cif])], i % 2 ? '\r\n' : '\n', false));
    }
    gzCorpus = csvCorpus.slice(0, 20).map((t) => gzipSync(t));
  },
  arbitrary: () =>
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .integer({ min: 1, max: 5 })
          .chain((cols) => fc.record({ rows: fc.array(fc.array(field, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 8 }), eol: fc.constantFrom('\n', '\r\n'), quoteAll: fc.boolean(), bom: fc.boolean() }))
          .map((t) => ({ kind: 'table' as const, ...t })),
      },
      { weight: 4, arbitrary: mutatedText(csvCorpus, ['"', '""', ',', '\n', '\r', '\r\n', 'material_id', 'cif', '\uFEFF', 'data_']).map((t) => ({ kind: 'file' as const, bytes: Buffer.from(t), gz: false })) },
      { weight: 2, arbitrary: mutatedBytes(gzCorpus).map((bytes) => ({ kind: 'file' as const, bytes, gz: true })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'file' as const, bytes, gz: true })) },
    ),
  run(input) {
    if (input.kind === 'table') {
      // a single empty field in the last row is indistinguishable from a trailing newline: pad it
      const rows = input.rows.map((r) => (r.length === 1 && r[0] === '' ? ['.'] : r));
      const text = (input.bom ? '\uFEFF' : '') + writeCsv(rows, input.eol, input.quoteAll);
      const t = parseCsv(text, 'table.csv');
      const back = [t.header, ...t.rows];
      if (JSON.stringify(back) !== JSON.stringify(rows)) throw new FuzzViolation(`CSV round trip differs: wrote ${JSON.stringify(rows)}, read ${JSON.stringify(back)}`);
      return;
    }
    const targets = csvTargetsFromBytes(Buffer.from(input.bytes), input.gz ? 'compositions.csv.gz' : 'compositions.csv');
    for (const t of targets) {
      if (t.atomicNumbers.length === 0 || !t.atomicNumbers.every((z) => Number.isInteger(z) && z >= 1 && z <= 118)) throw new FuzzViolation(`accepted target ${t.materialId} with atomic numbers ${t.atomicNumbers}`);
    }
  },
  show: (i) => (i.kind === 'table' ? JSON.stringify(i) : `${i.gz ? 'gz ' : ''}${JSON.stringify(Buffer.from(i.bytes).toString('latin1'))}`),
};
