// Slow: every registry entry against the mirror's files, with sizes and hashes
// recomputed by coreutils, gzip and git (independently of src/assets/hash.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { haveTestMirror, testMirrorDir } from './testMirror.js';
import { getAsset, listAssets, MAGPIE_PROPERTIES, requiredSlots } from './registry.js';
import { digestFile, gitBlobOf } from './hash.js';

const skip = haveTestMirror() ? false : `no asset mirror at ${testMirrorDir()}`;
const mirror = testMirrorDir();

test('every mirror file matches its registry entry: size, sha256 (sha256sum), git blob (git hash-object), decompressed content', { skip }, async () => {
  let checked = 0;
  for (const a of listAssets()) {
    for (const f of a.files.filter((x) => x.onMirror)) {
      const p = join(mirror, a.mirrorDir, f.name);
      assert.ok(existsSync(p), `${p} missing on the mirror`);
      const d = await digestFile(p);
      assert.equal(d.bytes, f.bytes, `${a.name}/${f.name} size`);
      assert.equal(d.sha256, f.sha256, `${a.name}/${f.name} sha256`);
      assert.equal(execFileSync('sha256sum', [p], { encoding: 'utf8' }).slice(0, 64), d.sha256);
      assert.equal(execFileSync('git', ['hash-object', p], { encoding: 'utf8' }).trim(), d.gitBlob);
      if (f.gitBlob) assert.equal(d.gitBlob, f.gitBlob, `${a.name}/${f.name} git blob`);
      if (f.content) {
        const csv = execFileSync('gzip', ['-dc', p], { maxBuffer: 1 << 27 });
        assert.equal(csv.length, f.content.bytes);
        assert.equal(execFileSync('sha256sum', [], { input: csv, encoding: 'utf8' }).slice(0, 64), f.content.sha256, `${a.name}/${f.name} content sha256`);
        if (f.content.gitBlob) assert.equal(gitBlobOf(csv), f.content.gitBlob);
      }
      checked++;
    }
  }
  assert.equal(checked, 11 + 24 + 4);
  // The magpie tables are the 22 of matminer's preset, in its feature order, plus licence and README.
  assert.equal(MAGPIE_PROPERTIES.length, 22);
  assert.deepEqual(requiredSlots(getAsset('magpie')), [...MAGPIE_PROPERTIES.map((p) => `${p}.table`), 'LICENSE', 'magpie_elementdata_README.txt']);
});

