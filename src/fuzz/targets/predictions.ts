/**
 * Predictions JSON Lines (src/eval/predictionsFile.ts readPredictionsJsonl, what `kldm evaluate
 * csp` reads): generated lines with type-confused fields, mutated files of real prediction lines
 * (dataset CIFs), plain and gzipped. Bad lines must be counted, never abort the read.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readPredictionsJsonl } from '../../eval/predictionsFile.js';
import { datasetCifs } from '../corpus.js';
import { FuzzViolation, type FuzzTarget } from '../harness.js';
import { mutatedBytes, mutatedText } from '../mutate.js';

const value = fc.oneof(fc.constantFrom(null, true, 0, -0, 1.5, 1e308, -1, 2 ** 53, '', 'mp-1', [], {}), fc.string({ maxLength: 10 }), fc.integer());
const line = fc.oneof(
  fc.record({ material_id: value, sample: value, cif: fc.oneof(value, fc.constant('data_x\n')) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.json(),
  fc.string({ maxLength: 40, unit: 'binary' }),
);

let corpus: string[] = [];
let scratch = '';
let n = 0;

export const predictionsFuzzTarget: FuzzTarget<{ text: string | Uint8Array; gz: boolean }> = {
  name: 'predictions',
  description: 'readPredictionsJsonl on generated and mutated prediction files (plain and .gz)',
  setup() {
    scratch = mkdtempSync(join(tmpdir(), 'kldm-fuzz-preds-'));
    const rows = datasetCifs();
    corpus = [];
    for (let i = 0; i + 4 <= rows.length && corpus.length < 40; i += 4) {
      corpus.push(rows.slice(i, i + 4).map((r, k) => JSON.stringify({ material_id: r.materialId, sample: k % 2, cif: r.cif })).join('\n') + '\n');
    }
  },
  teardown() {
    rmSync(scratch, { recursive: true, force: true });
  },
  arbitrary: () =>
    fc.oneof(
      { weight: 3, arbitrary: fc.array(line, { maxLength: 8 }).map((ls) => ({ text: ls.join('\n'), gz: false })) },
      { weight: 4, arbitrary: mutatedText(corpus, ['{', '}', '"', '\\', '\n', '"sample":', '"material_id":', '"cif":', 'null', '1e999', '-1', '\u2028']).map((text) => ({ text, gz: false })) },
      { weight: 1, arbitrary: mutatedText(corpus, ['\n']).map((text) => ({ text, gz: true })) },
      { weight: 1, arbitrary: mutatedBytes(corpus.slice(0, 10).map((t) => gzipSync(t))).map((text) => ({ text, gz: true })) },
    ),
  run({ text, gz }) {
    const path = join(scratch, `p${n++ % 4}.jsonl${gz ? '.gz' : ''}`);
    writeFileSync(path, typeof text === 'string' && gz ? gzipSync(text) : text);
    const r = readPredictionsJsonl(path);
    for (const p of r.predictions) {
      if (typeof p.materialId !== 'string' || !Number.isInteger(p.sample)) throw new FuzzViolation(`accepted prediction ${JSON.stringify(p)}`);
      if (p.cif === undefined && p.malformed === undefined) throw new FuzzViolation('a prediction with neither cif nor malformed');
    }
    if (!Number.isInteger(r.unreadableLines) || r.unreadableLines < 0) throw new FuzzViolation('unreadable line count');
  },
  show: ({ text, gz }) => `${gz ? 'gz ' : ''}${typeof text === 'string' ? JSON.stringify(text) : Buffer.from(text).toString('base64')}`,
};
