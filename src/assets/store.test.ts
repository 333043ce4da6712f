// The asset store with a local mirror folder: registry entries against the
// mirror's files (hashes recomputed by git and coreutils, independently of our
// hashing code), installing, verifying, damage detection, and the messages
// that name the install command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, chmodSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshHome, haveTestMirror, testMirrorDir } from './testMirror.js';
import { assetNames, getAsset, listAssets, upstreamUrl } from './registry.js';
import { assetPath, assetStatus, fetchAsset, installCommand, requireAsset, resolveSource, verifyAsset } from './store.js';
import { gitBlobOf } from './hash.js';
import { AssetNotInstalled, NotOnSource } from './errors.js';
import { kldmHome } from './home.js';

const skip = haveTestMirror() ? false : `no asset mirror at ${testMirrorDir()}`;
const mirror = testMirrorDir();

test('registry: the six assets; upstream URLs pin a commit or a blob; MP-20 originals are known by hash only', () => {
  assert.deepEqual(assetNames(), ['perov_5', 'mp_20', 'mpts_52', 'carbon_24', 'magpie', 'm3gnet-mp-2021.2.8']);
  for (const a of listAssets()) {
    assert.ok(a.licence && a.citation && a.description, a.name);
    for (const f of a.files) {
      assert.ok(f.sha256 || f.gitBlob, `${a.name}/${f.name} has no hash`);
      if (f.upstream) assert.match(upstreamUrl(f), /^https:\/\/(raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{8,40}\/|api\.github\.com\/repos\/[^/]+\/[^/]+\/git\/blobs\/[0-9a-f]{40}$)/);
    }
  }
  const mp20 = getAsset('mp_20').files;
  const train = mp20.filter((f) => f.slot === 'train');
  assert.deepEqual(train.map((f) => [f.name, f.variant, f.onMirror, Boolean(f.upstream)]), [['train.csv', 'original', false, true], ['train.reconstructed.csv.gz', 'reconstruction', true, false]]);
  assert.equal(train[0]!.gitBlob, 'b1c9d498565ac2fd8d075a51ff2ef5e51ba6c21f');
  assert.equal(upstreamUrl(getAsset('perov_5').files[0]!), 'https://api.github.com/repos/jiaor17/DiffCSP/git/blobs/62ce91686595d45d484d026bbfd14c2518b66abd');
  assert.equal(installCommand('mp_20'), 'kldm data fetch mp_20');
  assert.equal(installCommand('magpie'), 'kldm assets fetch magpie');
});

test('git blob ids as git computes them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-blob-'));
  for (const [name, bytes] of [['empty', Buffer.alloc(0)], ['text', Buffer.from('hello\r\nworld\n')], ['bin', Buffer.from([0, 1, 2, 255, 0])]] as const) {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    assert.equal(gitBlobOf(bytes), execFileSync('git', ['hash-object', p], { encoding: 'utf8' }).trim(), name);
  }
});

test('install from a mirror folder, requireAsset/assetPath, verify, and damage found by verify', { skip }, async () => {
  const home = freshHome();
  assert.equal(kldmHome(), home);
  assert.throws(() => requireAsset('magpie'), (err: unknown) => err instanceof AssetNotInstalled && /asset magpie is not installed; install it with: kldm assets fetch magpie/.test(err.message));
  assert.throws(() => assetPath('m3gnet-mp-2021.2.8', 'state.pt'), /state\.pt of asset m3gnet-mp-2021\.2\.8 is not installed; install it with: kldm assets fetch m3gnet-mp-2021\.2\.8/);
  assert.throws(() => assetPath('magpie', 'Nope.table'), /asset magpie has no file "Nope.table"/);
  assert.throws(() => requireAsset('nope'), /unknown asset "nope" \(known: perov_5, mp_20/);

  const r = await fetchAsset('magpie', { from: mirror, quiet: true });
  assert.equal(r.files.length, 24);
  const inst = requireAsset('magpie');
  assert.equal(inst.dir, join(home, 'assets', 'magpie'));
  assert.equal(inst.files['Number.table'], join(home, 'assets', 'magpie', 'Number.table'));
  // line Z of Number.table is Z itself: a content check of what was installed
  const lines = readFileSync(assetPath('magpie', 'Number.table'), 'utf8').split(/\r?\n/);
  assert.equal(Number(lines[25]), 26);

  await fetchAsset('mp_20', { from: mirror, quiet: true });
  const st = assetStatus('mp_20');
  assert.ok(st.installed);
  assert.deepEqual(st.slots.map((s) => [s.slot, s.file?.name]), [['train', 'train.reconstructed.csv.gz'], ['val', 'val.reconstructed-no-index.csv.gz'], ['test', 'test.reconstructed-no-index.csv.gz'], ['train-provenance', 'train.reconstructed.provenance.csv.gz']]);
  const checks = await verifyAsset('mp_20');
  assert.equal(checks.length, 4);
  assert.ok(checks.every((c) => c.ok), JSON.stringify(checks));
  assert.match(checks[0]!.detail, /sha256 ok; decompressed CSV sha256 ok/);

  // Same size, one byte changed: still "installed" (cheap check), but verify says BAD.
  const p = assetPath('magpie', 'Row.table');
  const bytes = readFileSync(p);
  bytes[0] = bytes[0]! ^ 1;
  chmodSync(p, 0o644);
  writeFileSync(p, bytes);
  const bad = (await verifyAsset('magpie')).filter((c) => !c.ok);
  assert.deepEqual(bad.map((c) => c.file), ['Row.table']);
  assert.match(bad[0]!.detail, /expected sha256 a6e0f8a4\w+, found sha256 \w+/);
});

test('a mirror without a required file: the error names the missing mirror path; an optional one is skipped', { skip }, async () => {
  freshHome();
  const partial = mkdtempSync(join(tmpdir(), 'kldm-mirror-'));
  mkdirSync(join(partial, 'reference', 'm3gnet'), { recursive: true });
  for (const f of ['state.pt', 'model.json', 'LICENSE']) copyFileSync(join(mirror, 'reference', 'm3gnet', f), join(partial, 'reference', 'm3gnet', f));
  const r = await fetchAsset('m3gnet-mp-2021.2.8', { from: partial, quiet: true });
  assert.deepEqual(r.skipped, ['cubic_lattice_dev.csv']);
  assert.ok(assetStatus('m3gnet-mp-2021.2.8').installed);
  await assert.rejects(fetchAsset('carbon_24', { from: partial, quiet: true }), (err: unknown) => {
    assert.ok(err instanceof NotOnSource);
    assert.match(err.message, /asset carbon_24: val: mirror .* has no data\/carbon_24\/val\.csv\.gz \(it can be fetched from upstream/);
    return true;
  });
  assert.throws(() => resolveSource('/nonexistent-kldm-mirror'), /mirror folder \/nonexistent-kldm-mirror does not exist/);
});
