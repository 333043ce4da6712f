import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResumableJsonl } from './resumableJsonl.js';

test('resumable JSONL: a torn last line is cut off the file, other lines are parsed; a foreign file is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-jsonl-'));
  const p = join(dir, 'out.jsonl');
  assert.deepEqual(readResumableJsonl(join(dir, 'none.jsonl'), 'kldm x'), []);
  writeFileSync(p, '{"a":1}\n\n{"a":2}\n{"a":');
  assert.deepEqual(readResumableJsonl(p, 'kldm x'), [{ line: 1, value: { a: 1 } }, { line: 3, value: { a: 2 } }]);
  assert.equal(readFileSync(p, 'utf8'), '{"a":1}\n\n{"a":2}\n');
  writeFileSync(p, '{"a":1}\nhello\n');
  assert.throws(() => readResumableJsonl(p, 'kldm x'), /line 2 is not JSON; not a kldm x output \(refusing to append\)/);
  writeFileSync(p, '[1]\n');
  assert.throws(() => readResumableJsonl(p, 'kldm x'), /line 1 is not a JSON object/);
});
