// `kldm assets list | fetch | verify | info` on an empty store and after a fetch from the mirror.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetsCommand } from './assets.js';
import { freshHome, haveTestMirror, testMirrorDir } from '../../assets/testMirror.js';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.map(String).join(' '));
  console.error = (...a: unknown[]) => void err.push(a.map(String).join(' '));
  try {
    const code = await assetsCommand.run(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('kldm assets: list, fetch from a mirror, verify (and a damaged file), info, bad arguments', { skip: haveTestMirror() ? false : 'no asset mirror' }, async () => {
  const home = freshHome('kldm-assets-cli-');
  const empty = await capture(['list']);
  assert.equal(empty.code, 0);
  assert.match(empty.out, /^magpie\s+element-data\s+26\.2 KiB\s+BSD-style\s+missing$/m);
  assert.match(empty.out, /^m3gnet-mp-2021\.2\.8\s+potential\s+1\.2 MiB\s+BSD-3-Clause\s+missing$/m);
  assert.ok(empty.out.includes(`store: ${home}/assets/<asset>/`));

  const f = await capture(['fetch', 'magpie', 'mp_20', '--from', testMirrorDir(), '--quiet']);
  assert.equal(f.code, 0, f.err);
  assert.match(f.out, /magpie: installed 24 file\(s\), 26\.2 KiB, verified; 24 file\(s\) in place/);
  assert.match(f.out, /mp_20: installed 4 file\(s\), 9\.0 MiB, verified \(reconstruction\)/);
  const again = await capture(['fetch', 'magpie', '--from', testMirrorDir()]);
  assert.match(again.out, /magpie: already installed; 24 file\(s\) in place/);
  const listed = await capture(['list']);
  assert.match(listed.out, /^mp_20\s+dataset\s+9\.0 MiB\s+MIT\s+installed \(reconstruction\)$/m);
  assert.match(listed.out, /^magpie\s+.*installed$/m);

  const ok = await capture(['verify', 'magpie']);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /24 file\(s\) checked, 0 bad/);
  const p = join(home, 'assets', 'magpie', 'Number.table');
  chmodSync(p, 0o644);
  writeFileSync(p, readFileSync(p, 'latin1').replace('26', '62'), 'latin1');
  const bad = await capture(['verify', 'magpie', 'perov_5']);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /magpie\/Number\.table: BAD \(expected sha256 8fc501dc\w+, found sha256 \w+\)/);
  assert.match(bad.out, /perov_5: not installed/);

  const info = await capture(['info', 'm3gnet-mp-2021.2.8']);
  assert.match(info.out, /state\.pt  \[state\.pt; original\]  -\n\s+1228529 bytes  sha256 a9aa7237\w+  git blob b338630c\w+\n\s+upstream: materialsvirtuallab\/matgl@e9cde229:pretrained_models\/M3GNet-MP-2021\.2\.8-PES\/state\.pt; on the mirror/);
  assert.match(info.out, /licence: BSD-3-Clause/);

  await assert.rejects(assetsCommand.run(['fetch']), /fetch needs asset names or "all"/);
  await assert.rejects(assetsCommand.run(['fetch', 'nope']), /unknown asset "nope"/);
  await assert.rejects(assetsCommand.run(['fetch', 'magpie', '--from', '/nonexistent-kldm-mirror']), /mirror folder \/nonexistent-kldm-mirror does not exist/);
  await assert.rejects(assetsCommand.run(['frob']), /unknown assets subcommand "frob"/);
});
