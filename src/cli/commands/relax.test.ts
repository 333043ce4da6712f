/**
 * `kldm relax` over the real potential from the asset store (the test runner installs it from the
 * mirror): structure files in and out, the JSONL path with resume and an unreadable record, and the
 * flag errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relaxCommand } from './relax.js';
import { writeCif } from '../../crystal/io/cif.js';
import { readCif } from '../../crystal/io/cif.js';
import { cubicCrystal } from '../../relax/testing/cubicCrystals.js';
import { assetStatus } from '../../assets/index.js';

const skip = assetStatus('m3gnet-mp-2021.2.8').installed ? false : 'M3GNet weights not installed (kldm assets fetch m3gnet-mp-2021.2.8)';

test('kldm relax: files in, relaxed files out, table and JSON summary', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-relax-cli-'));
  const nacl = join(dir, 'NaCl.cif');
  writeFileSync(nacl, writeCif(cubicCrystal('NaCl', 'Halite', 5.5), 'NaCl'));
  const si = join(dir, 'Si.cif');
  writeFileSync(si, writeCif(cubicCrystal('Si', 'Diamond (FCC)', 5.6), 'Si'));
  const out = join(dir, 'out');
  assert.equal(await relaxCommand.run([nacl, si, '--out', out, '--fmax', '0.05', '--trajectory', '--json', join(dir, 's.json'), '--quiet']), 0);
  const s = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { results: { converged: boolean; energy_per_atom: number; initial_energy_per_atom: number; volume_change_percent: number }[] };
  assert.equal(s.results.length, 2);
  for (const r of s.results) {
    assert.ok(r.converged);
    assert.ok(r.energy_per_atom <= r.initial_energy_per_atom + 1e-9);
  }
  // NaCl starts compressed (5.5 Å vs ~5.70 relaxed by M3GNet): the cell grows
  assert.ok(s.results[0]!.volume_change_percent > 5, String(s.results[0]!.volume_change_percent));
  const relaxed = readCif(readFileSync(join(out, 'NaCl_relaxed.cif'), 'utf8'));
  assert.equal(relaxed.species.length, 8);
  assert.ok(existsSync(join(out, 'Si_relax.extxyz')));
});

test('kldm relax --jsonl: one result line per record, unreadable records kept as errors, resumable', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-relax-jsonl-'));
  const input = join(dir, 'in.jsonl');
  const lines = [
    { material_id: 'a', sample: 0, cif: writeCif(cubicCrystal('KCl', 'Halite', 6.2)) },
    { material_id: 'b', sample: 0, cif: '' },
    { material_id: 'c', sample: 1, cif: 'data_x\nnot a cif' },
    { id: 'd', cif: writeCif(cubicCrystal('Cu', 'FCC', 3.7)) },
  ];
  writeFileSync(input, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const out = join(dir, 'out.jsonl');
  assert.equal(await relaxCommand.run(['--jsonl', input, '--out', out, '--batch-size', '2', '--quiet']), 0);
  const got = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(got.map((g) => g['id']), ['a/0', 'b/0', 'c/1', 'd']);
  assert.equal(got[0]!['converged'], true);
  assert.equal((got[0]!['stress_gpa'] as number[]).length, 9);
  assert.match(String(got[1]!['error']), /no structure/);
  assert.ok(typeof got[2]!['error'] === 'string');
  assert.ok((got[3]!['energy_per_atom'] as number) < -3);
  // killed after the first batch (and a torn line): the rerun completes the file without redoing a/0, b/0
  writeFileSync(out, readFileSync(out, 'utf8').split('\n').slice(0, 2).join('\n') + '\n{"id": "c/');
  assert.equal(await relaxCommand.run(['--jsonl', input, '--out', out, '--quiet']), 0);
  const again = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(again.map((g) => g['id']), ['a/0', 'b/0', 'c/1', 'd']);
});

test('kldm relax: bad flags are refused naming the flag', async () => {
  await assert.rejects(relaxCommand.run([]), /give structure files to relax/);
  await assert.rejects(relaxCommand.run(['x.cif', '--fmax=-1']), /--fmax must be a positive number/);
  await assert.rejects(relaxCommand.run(['x.cif', '--cell-force', 'magic']), /--cell-force must be ase or exact/);
  await assert.rejects(relaxCommand.run(['--jsonl', 'x.jsonl', '--out', 'y.cif']), /--jsonl needs --out <relaxed.jsonl>/);
  await assert.rejects(relaxCommand.run(['x.cif', '--format', 'pdb']), /--format must be one of/);
});
