// The real download path against a loopback HTTP server that serves the shared
// mirror: 200, 404, redirect, redirect loop, wrong bytes, a connection cut
// mid-body (resumed in the same call, and resumed by a later call from the
// partial file), and an unreachable host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { freshHome, haveTestMirror, startMirrorServer, testMirrorDir, type MirrorServer } from './testMirror.js';
import { assetPath, assetStatus, fetchAsset } from './store.js';
import { downloadFile } from './download.js';
import { ChecksumMismatch, DownloadHttpError, NetworkUnavailable, RedirectLoop, TruncatedDownload } from './errors.js';
import { assetDir, downloadDir } from './home.js';

const skip = haveTestMirror() ? false : `no asset mirror at ${testMirrorDir()}`;
let server: MirrorServer;

before(async () => {
  if (!skip) server = await startMirrorServer();
});
after(async () => {
  await server?.close();
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const mirrorFile = (rel: string) => readFileSync(join(testMirrorDir(), rel));

test('200: the M3GNet weights install over HTTP, byte-identical to the mirror; a second fetch downloads nothing', { skip }, async () => {
  freshHome();
  const r = await fetchAsset('m3gnet-mp-2021.2.8', { from: `${server.base}/mirror`, quiet: true });
  assert.deepEqual(r.files.map((f) => [f.file, f.action]), [['state.pt', 'installed'], ['model.json', 'installed'], ['LICENSE', 'installed'], ['cubic_lattice_dev.csv', 'installed']]);
  const p = assetPath('m3gnet-mp-2021.2.8', 'state.pt');
  assert.equal(sha256(readFileSync(p)), sha256(mirrorFile('reference/m3gnet/state.pt')));
  assert.equal(sha256(readFileSync(p)), 'a9aa723705bd1a242ec8749332f137811c4a94e17995a564f8f94a9aca68061b');
  const n = server.requests.length;
  const again = await fetchAsset('m3gnet-mp-2021.2.8', { from: `${server.base}/mirror`, quiet: true });
  assert.ok(again.files.every((f) => f.action === 'present'));
  assert.equal(server.requests.length, n, 'no request for installed files');
});

test('404 is an HTTP error naming the URL, and nothing is installed', { skip }, async () => {
  freshHome();
  await assert.rejects(fetchAsset('magpie', { from: `${server.base}/nothing-here`, quiet: true }), (err: unknown) => {
    assert.ok(err instanceof DownloadHttpError);
    assert.equal(err.status, 404);
    assert.match(err.message, /HTTP 404 .* for http:\/\/127\.0\.0\.1:\d+\/nothing-here\/reference\/magpie\/Number\.table/);
    return true;
  });
  assert.equal(assetStatus('magpie').installed, false);
  assert.equal(existsSync(join(assetDir('magpie'), 'Number.table')), false);
});

test('redirects are followed; a redirect loop is an error that shows the chain', { skip }, async () => {
  freshHome();
  const r = await fetchAsset('magpie', { from: `${server.base}/redirect`, quiet: true });
  assert.equal(r.files.filter((f) => f.action === 'installed').length, 24);
  assert.equal(readFileSync(assetPath('magpie', 'Electronegativity.table'), 'latin1'), mirrorFile('reference/magpie/Electronegativity.table').toString('latin1'));
  await assert.rejects(downloadFile(`${server.base}/loop/reference/magpie/Row.table`, join(downloadDir('x'), 'loop.part')), (err: unknown) => {
    assert.ok(err instanceof RedirectLoop);
    assert.match(err.message, /^redirect loop: http:\/\/127\.0\.0\.1:\d+\/loop\/reference\/magpie\/Row\.table -> .*\/loop2\/.* -> .*\/loop\/reference\/magpie\/Row\.table$/);
    return true;
  });
});

test('wrong bytes: checksum mismatch names file, source and both hashes; the download is discarded', { skip }, async () => {
  freshHome();
  await assert.rejects(fetchAsset('m3gnet-mp-2021.2.8', { from: `${server.base}/wrong`, quiet: true }), (err: unknown) => {
    assert.ok(err instanceof ChecksumMismatch);
    assert.match(err.message, /checksum mismatch for m3gnet-mp-2021\.2\.8\/state\.pt from http:\/\/127\.0\.0\.1:\d+\/wrong\/reference\/m3gnet\/state\.pt: expected sha256 a9aa7237\w+, got sha256 \w{64}/);
    return true;
  });
  assert.equal(existsSync(join(assetDir('m3gnet-mp-2021.2.8'), 'state.pt')), false);
  assert.equal(existsSync(join(downloadDir('m3gnet-mp-2021.2.8'), 'state.pt.part')), false);
});

test('connection cut mid-body: resumed with a Range request in the same fetch, verified', { skip }, async () => {
  freshHome();
  const before = server.requests.length;
  await fetchAsset('perov_5', { from: `${server.base}/cut`, quiet: true });
  const reqs = server.requests.slice(before).filter((r) => r.url.endsWith('/data/perov_5/train.csv.gz'));
  const size = statSync(join(testMirrorDir(), 'data/perov_5/train.csv.gz')).size;
  // the server cuts after sending half; the client resumes from what reached its .part file, which is at most
  // that (bytes still in flight when the socket was destroyed are lost; how many depends on timing)
  assert.equal(reqs.length, 2);
  assert.equal(reqs[0]!.range, undefined);
  const start = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range ?? '')?.[1]);
  assert.ok(start > 0 && start <= Math.floor(size / 2), `resumed from ${reqs[1]!.range} (cut at ${Math.floor(size / 2)})`);
  assert.equal(sha256(readFileSync(assetPath('perov_5', 'train'))), sha256(mirrorFile('data/perov_5/train.csv.gz')));
});

test('a cut download with no retries left keeps its partial file; the next fetch resumes it', { skip }, async () => {
  freshHome();
  const part = join(downloadDir('m3gnet-mp-2021.2.8'), 'state.pt.part');
  await assert.rejects(fetchAsset('m3gnet-mp-2021.2.8', { from: `${server.base}/cut`, quiet: true, retries: 0 }), (err: unknown) => {
    assert.ok(err instanceof TruncatedDownload);
    assert.match(err.message, /stopped at \d+ of 1228529 bytes .*partial file .*state\.pt\.part is kept and the next fetch resumes it/);
    return true;
  });
  const have = statSync(part).size;
  assert.ok(have > 0 && have < 1228529, `partial size ${have}`);
  assert.equal(assetStatus('m3gnet-mp-2021.2.8').installed, false);
  const before = server.requests.length;
  await fetchAsset('m3gnet-mp-2021.2.8', { from: `${server.base}/cut`, quiet: true });
  const first = server.requests.slice(before).find((r) => r.url.endsWith('state.pt'));
  assert.equal(first?.range, `bytes=${have}-`);
  assert.equal(sha256(readFileSync(assetPath('m3gnet-mp-2021.2.8', 'state.pt'))), 'a9aa723705bd1a242ec8749332f137811c4a94e17995a564f8f94a9aca68061b');
  assert.equal(existsSync(part), false);
});

test('a cut attempt settles only after its last write has landed (slow disk): the partial file does not grow afterwards', { skip }, async () => {
  freshHome();
  const part = join(downloadDir('slow-disk'), 'state.pt.part');
  // every write reaches the disk 150 ms late, as on a loaded machine
  const slowFs = {
    open: fs.open,
    close: fs.close,
    write: (...args: unknown[]) => void setTimeout(() => (fs.write as (...a: unknown[]) => void)(...args), 150),
  };
  let reported = -1;
  // a server of its own: the shared one cuts each file only once
  const own = await startMirrorServer();
  try {
    await assert.rejects(downloadFile(`${own.base}/cut/reference/m3gnet/state.pt`, part, { retries: 0, partFs: slowFs }), (err: unknown) => {
      assert.ok(err instanceof TruncatedDownload);
      reported = Number(/stopped at (\d+) of/.exec(err.message)?.[1]);
      return true;
    });
  } finally {
    await own.close();
  }
  const atRejection = statSync(part).size;
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(atRejection > 0);
  assert.equal(statSync(part).size, atRejection, 'no write lands after the attempt has settled');
  assert.equal(atRejection, reported, 'the error reports the bytes in the file');
});

test('an unreachable host is a "no network" error that points to --from', async () => {
  // a port that was free a moment ago: connection refused
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  freshHome();
  await assert.rejects(downloadFile(`http://127.0.0.1:${port}/x`, join(downloadDir('x'), 'x.part')), (err: unknown) => {
    assert.ok(err instanceof NetworkUnavailable);
    assert.match(err.message, /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\): no network connection\? Install from a local mirror instead: kldm assets fetch <name> --from <dir>/);
    return true;
  });
});
