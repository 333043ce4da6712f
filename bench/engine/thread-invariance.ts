/**
 * `npx tsx bench/engine/thread-invariance.ts`: does the native f32 GEMM give the same bits with 1 and 2
 * threads on this CPU? Queued runs (docs/scale-out.md, "Exactness") equal the single-process file byte
 * for byte only where it does, or where every process uses the same KLDM_THREADS.
 *
 * For a grid of shapes (m, n, k, all four transposes) it computes C = A·B once with 1 thread and once with
 * 2 (the addon's setThreads, one process) and prints how many shapes differ in any element, the largest
 * difference (relative to the product's largest element), and with --list the shapes that differ. A measurement, not a test: the answer depends on the
 * CPU's ISA (oneDNN picks other kernels and partitions for AVX2 and AVX-512) and the oneDNN build.
 * Options: --json (last line: one JSON object), --list (print every differing shape).
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { nativeAddonPath, type Addon } from '../../src/engine/native.js';

type GemmAddon = Pick<Addon, 'gemm' | 'setThreads' | 'bf16Isa' | 'backends'>;

const argv = process.argv.slice(2);
process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';
const addon = createRequire(import.meta.url)(nativeAddonPath()) as GemmAddon;

/** deterministic values in [-0.5, 0.5] that differ between arrays of different length */
function values(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin(i * 12.9898 + n);
  return x;
}

const ms = [1, 4, 16, 64, 256, 1024, 4096];
const ns = [1, 8, 16, 64, 128, 256];
const ks = [1, 8, 16, 64, 128, 256, 1024, 4096, 16384];
const differing: string[] = [];
let shapes = 0;
let worst = 0;
for (const tA of [false, true]) {
  for (const tB of [false, true]) {
    for (const m of ms) {
      for (const n of ns) {
        for (const k of ks) {
          if (m * k > 3e7 || n * k > 3e7 || m * n * k > 2 ** 27) continue; // keeps the whole grid near a minute
          shapes++;
          const a = values(m * k);
          const b = values(k * n);
          const c1 = new Float32Array(m * n);
          const c2 = new Float32Array(m * n);
          addon.setThreads(1);
          addon.gemm(tA, tB, m, n, k, 1, a, 0, tA ? m : k, b, 0, tB ? k : n, 0, c1, 0, n, 0);
          addon.setThreads(2);
          addon.gemm(tA, tB, m, n, k, 1, a, 0, tA ? m : k, b, 0, tB ? k : n, 0, c2, 0, n, 0);
          // the difference is measured against the product's largest element: single elements near zero
          // (cancellation) can differ by a large fraction of themselves at float rounding level
          let diff = 0;
          let scale = 0;
          let largest = 0;
          for (let i = 0; i < m * n; i++) {
            scale = Math.max(scale, Math.abs(c1[i]!));
            if (c1[i] !== c2[i]) {
              diff++;
              largest = Math.max(largest, Math.abs(c1[i]! - c2[i]!));
            }
          }
          if (diff > 0) worst = Math.max(worst, largest / scale);
          if (diff > 0) differing.push(`${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} m=${m} n=${n} k=${k}: ${diff}/${m * n} elements`);
        }
      }
    }
  }
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`f32 GEMM, 1 vs 2 threads (${addon.backends().join(', ')}; oneDNN ISA ${addon.bf16Isa()}; ${cpu}):`);
console.log(`  ${differing.length} of ${shapes} shapes differ in some element; largest difference relative to the product's largest element ${worst.toExponential(2)}`);
if (argv.includes('--list')) for (const d of differing) console.log(`  ${d}`);
if (argv.includes('--json')) console.log(JSON.stringify({ cpu, isa: addon.bf16Isa(), shapes, differing: differing.length, worstRelative: worst }));
