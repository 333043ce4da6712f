import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The engine's elementwise kernels are fast only if gcc vectorises their loops, and gcc gives
 * up silently: with the default -ftrapping-math it left every loop calling fast_expf scalar on
 * AVX2-only CPUs (AVX-512 masking hid this on the development machine), and
 * edge_combine_backward's inner loop stayed scalar until its rows were declared alias-free.
 * That cost ~1.5x per training step on an AVX2 EPYC. This test compiles native/kernels.cc with
 * binding.gyp's flags for a fixed AVX2 target (x86-64-v3, whatever the host) and checks the
 * outlined OpenMP bodies in the disassembly for the packed 256-bit instructions that only the
 * vectorised loops emit: vdivps (the sigmoid's 1/(1 + e^-x)) in every SiLU/sigmoid kernel,
 * packed FMA (the dwv partial sums) in edge_combine_backward.
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cxx = process.env.CXX || 'g++';
const tools = [cxx, 'objdump'].filter((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status !== 0);
const skip = tools.length > 0 ? `${tools.join(' and ')} not available` : false;

/** binding.gyp's C++ flags with the target CPU replaced by march. */
function gypFlags(march: string): string[] {
  const gyp = JSON.parse(readFileSync(join(repo, 'binding.gyp'), 'utf8')) as { targets: { cflags_cc: string[] }[] };
  const flags = gyp.targets[0]!.cflags_cc.map((f) => (f.startsWith('-march=') ? `-march=${march}` : f));
  assert.ok(flags.includes(`-march=${march}`), 'binding.gyp sets -march');
  return flags;
}

/** Disassembles native/kernels.cc built with flags; returns per-function instruction text. */
function disassemble(flags: string[]): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-vec-'));
  try {
    const obj = join(dir, 'kernels.o');
    const cc = spawnSync(cxx, [...flags, '-c', join(repo, 'native', 'kernels.cc'), '-o', obj], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `compiling native/kernels.cc failed: ${cc.stderr}`);
    const dis = spawnSync('objdump', ['-d', '-C', '--no-show-raw-insn', obj], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(dis.status, 0, `objdump failed: ${dis.stderr}`);
    const fns = new Map<string, string>();
    let name = '';
    for (const line of dis.stdout.split('\n')) {
      const head = /^[0-9a-f]+ <(.*)>:$/.exec(line);
      if (head) name = head[1]!;
      else if (name) fns.set(name, (fns.get(name) ?? '') + line + '\n');
    }
    return fns;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Instructions of the OpenMP-outlined body of kldm::<kernel>. */
function body(fns: Map<string, string>, kernel: string): string {
  const key = [...fns.keys()].find((k) => k.startsWith(`kldm::${kernel}(`) && k.includes('_omp_fn'));
  assert.ok(key, `no OpenMP body of kldm::${kernel} in the disassembly`);
  return fns.get(key)!;
}

test('the SiLU, sigmoid and edge-backward loops are vectorised for AVX2 (x86-64-v3) with binding.gyp flags', { skip }, () => {
  const fns = disassemble(gypFlags('x86-64-v3'));
  for (const k of ['bias_silu', 'silu_backward', 'bias_silu_segment_mean', 'silu_segment_mean_backward', 'sigmoid_gate']) {
    assert.match(body(fns, k), /vdivps\s.*%ymm/, `${k}: the sigmoid loop is scalar (no packed vdivps on ymm)`);
  }
  assert.match(body(fns, 'edge_combine_backward'), /vfmadd\d+ps\s.*%ymm/, 'edge_combine_backward: the per-edge loop is scalar (no packed FMA)');
});

test('the check tells a scalar build apart (same flags plus -fno-tree-vectorize)', { skip }, () => {
  const fns = disassemble([...gypFlags('x86-64-v3'), '-fno-tree-vectorize']);
  assert.doesNotMatch(body(fns, 'bias_silu'), /vdivps\s.*%ymm/);
  assert.doesNotMatch(body(fns, 'edge_combine_backward'), /vfmadd\d+ps\s.*%ymm/);
});
