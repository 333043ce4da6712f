#!/usr/bin/env node
// Runs every *.test.ts under src/ (and tests under bench/ are never run here)
// with Node's built-in test runner through tsx. *.slow.test.ts files (long
// checks that CI runs too) are left out by default; `--slow` runs only them,
// `--all` runs everything.
// Extra arguments that are paths restrict the run to those files.
//
// Tests read third-party assets (datasets, element tables, weights) from the
// store ($KLDM_HOME, default ~/.cache/kldm). Before the tests, whatever is
// missing there is installed (verified) from the local mirror: $KLDM_MIRROR,
// else the shared/ folder beside the repository (../shared, as in CI). Files
// already installed are left alone, so this costs a few stat calls.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mirror = process.env.KLDM_MIRROR || join(repo, '..', 'shared');
if (existsSync(mirror)) {
  const store = pathToFileURL(join(repo, 'src', 'assets', 'index.ts')).href;
  const code = `const m = await import(${JSON.stringify(store)});
for (const n of m.assetNames()) {
  const r = await m.fetchAsset(n, { from: ${JSON.stringify(mirror)}, quiet: true });
  const k = r.files.filter((f) => f.action === 'installed').length;
  if (k > 0) console.error('run-tests: installed ' + n + ' (' + k + ' files) from ' + r.source + ' into ' + m.kldmHome());
}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: 'inherit', cwd: repo });
  if (r.status !== 0) {
    console.error(`run-tests: installing the assets from ${mirror} failed`);
    process.exit(r.status ?? 1);
  }
} else {
  console.error(`run-tests: no asset mirror at ${mirror} (set KLDM_MIRROR); tests that need datasets need them installed (kldm assets fetch all)`);
}

const args = process.argv.slice(2);
const mode = args.includes('--all') ? 'all' : args.includes('--slow') ? 'slow' : 'fast';
const only = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = only.length > 0 ? only : walk('src', []);
const isSlow = (f) => f.endsWith('.slow.test.ts');
if (only.length === 0) files = files.filter((f) => mode === 'all' || (mode === 'slow') === isSlow(f));
files.sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--no-turbo-inline-js-wasm-calls', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
