#!/usr/bin/env node
// Runs every *.test.ts under src/ (and tests under bench/ are never run here)
// with Node's built-in test runner through tsx. *.slow.test.ts files (long
// checks that CI runs too) are left out by default; `--slow` runs only them,
// `--all` runs everything.
// Extra arguments that are paths restrict the run to those files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

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
