import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataCommand } from './data.js';
import { InputError } from '../../util/errors.js';
import { freshHome, haveTestMirror, testMirrorDir } from '../../assets/testMirror.js';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
  try {
    const code = await dataCommand.run(argv);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = orig;
  }
}

test('kldm data list shows every dataset, which file is installed (MP-20: the reconstruction) and the missing splits', async () => {
  const { code, out } = await capture(['list']);
  assert.equal(code, 0);
  assert.match(out, /perov_5\s+train\s+11356\s+train\.csv(\.gz)?\s+\[original\]/);
  assert.match(out, /mp_20\s+train\s+27136\s+train\.reconstructed\.csv\.gz\s+\[reconstruction\]/);
  assert.match(out, /carbon_24\s+train\s+-\s+\(no known source/);
});

test('on a machine without datasets, kldm data list says what is missing and how to install it; kldm data fetch installs from a mirror', { skip: haveTestMirror() ? false : 'no asset mirror' }, async () => {
  const old = process.env['KLDM_HOME'];
  freshHome('kldm-data-cli-');
  try {
    const empty = await capture(['list']);
    assert.match(empty.out, /perov_5\s+train\s+11356\s+NOT INSTALLED/);
    assert.match(empty.out, /not installed: perov_5, mp_20, mpts_52, carbon_24; install with: kldm data fetch perov_5; kldm data fetch mp_20;/);
    await assert.rejects(dataCommand.run(['stats', 'carbon_24', '--split', 'val']), /dataset carbon_24 \(val split\) is not installed; install it with: kldm data fetch carbon_24/);
    await assert.rejects(dataCommand.run(['fetch', 'magpie']), /"magpie" is not a dataset .*use kldm assets fetch magpie/);
    const f = await capture(['fetch', 'carbon_24', '--from', testMirrorDir(), '--quiet']);
    assert.equal(f.code, 0);
    assert.match(f.out, /carbon_24: installed 2 file\(s\), 908\.3 KiB, verified; 2 file\(s\) in place/);
    const after = await capture(['list']);
    assert.match(after.out, /carbon_24\s+val\s+2032\s+val\.csv\.gz\s+\[original\]\s+not prepared yet/);
    assert.match(after.out, /not installed: perov_5, mp_20, mpts_52;/);
  } finally {
    if (old === undefined) delete process.env['KLDM_HOME'];
    else process.env['KLDM_HOME'] = old;
  }
});

test('kldm data prepare (cached) and stats with --json/--svg', async () => {
  const p = await capture(['prepare', 'perov_5', '--split', 'test']);
  assert.equal(p.code, 0);
  assert.match(p.out, /perov_5\/test: 3785 rows, 3785 prepared, 0 failed/);
  const dir = mkdtempSync(join(tmpdir(), 'kldm-stats-'));
  const s = await capture(['stats', 'perov_5', '--split', 'test', '--json', join(dir, 's.json'), '--svg', join(dir, 's.svg')]);
  assert.equal(s.code, 0);
  assert.match(s.out, /Atoms per cell/);
  assert.match(s.out, /^5\s+3785\s+#+$/m);
  const json = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
  assert.equal(json.structures, 3785);
  assert.equal(json.atomCountHistogram['5'], 3785);
  assert.match(readFileSync(join(dir, 's.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const t = await capture(['stats', 'perov_5']);
  assert.match(t.out, /Log-length statistics per atom count/);
});

test('bad arguments are user errors', async () => {
  await assert.rejects(dataCommand.run(['prepare']), (e: unknown) => e instanceof InputError && /exactly one dataset/.test(e.message));
  await assert.rejects(dataCommand.run(['stats', 'nope']), /unknown dataset "nope"/);
  await assert.rejects(dataCommand.run(['stats', 'mpts_52', '--split', 'train']), /has no train split \(the original file could not be obtained/);
  await assert.rejects(dataCommand.run(['prepare', 'all', '--split', 'test']), /cannot be combined with "all"/);
  await assert.rejects(dataCommand.run(['frob']), /unknown data subcommand "frob"/);
  await assert.rejects(dataCommand.run(['list', 'x']), /takes no arguments/);
});
