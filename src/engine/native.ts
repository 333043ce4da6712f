/**
 * The native addon (native/*.cc, built by scripts/build-native.mjs into
 * build/Release/kldm_native.node) behind the Kernels interface. The addon works
 * on the typed arrays' memory in place and trusts its arguments, so this wrapper
 * checks element types and bounds (cheap integer arithmetic) before each call.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AdamWHyper, EdgeLayout, FloatArray, Kernels } from './kernels.js';
import { bf16Eligible, type Precision, type PrecisionCapabilities } from './precision.js';

/** GEMM library choice: auto picks per shape (see native/gemm.cc). */
export type GemmBackendName = 'auto' | 'openblas' | 'dnnl';
const BACKEND_CODE: Record<GemmBackendName, number> = { auto: 0, openblas: 1, dnnl: 2 };

/** Must equal kAbiVersion in native/addon.cc; a stale build/ (older sources) is not used. */
const NATIVE_ABI_VERSION = 6;

/** The addon's exports (native/addon.cc); exported as a type for benchmarks that call it directly. */
export interface Addon {
  abiVersion?: number;
  gemm(tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, aOff: number, lda: number,
    b: Float32Array, bOff: number, ldb: number, beta: number, c: Float32Array, cOff: number, ldc: number, backend: number): void;
  gemmBf16(tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, aOff: number, lda: number,
    b: Float32Array, bOff: number, ldb: number, beta: number, c: Float32Array, cOff: number, ldc: number, backend: number): void;
  bf16Supported(): boolean;
  bf16Isa(): string;
  toBf16(src: Float32Array, dst: Uint16Array, n: number): void;
  bf16Pin(a: Float32Array, n: number): void;
  bf16Unpin(a: Float32Array): void;
  bf16UnpinAll(): void;
  bf16PinnedCount(): number;
  biasSilu(z: Float32Array, bias: Float32Array | null, rows: number, cols: number, out: Float32Array): void;
  siluBackward(dout: Float32Array, z: Float32Array, n: number, dz: Float32Array): void;
  hadamard(x: Float32Array, a: Float32Array, b: Float32Array | null, n: number, xa: Float32Array, xb: Float32Array | null): void;
  sigmoidGate(z: Float32Array, value: Float32Array | null, n: number, gate: Float32Array, out: Float32Array | null): void;
  sigmoidGateBackward(dout: Float32Array, gate: Float32Array, value: Float32Array | null, n: number, dvalue: Float32Array | null, dz: Float32Array): void;
  addBias(x: Float32Array, bias: Float32Array, rows: number, cols: number): void;
  biasSiluSegmentMean(z: Float32Array, bias: Float32Array, off: Int32Array, S: number, cols: number, out: Float32Array): void;
  siluSegmentMeanBackward(dout: Float32Array, z: Float32Array, off: Int32Array, S: number, cols: number, dz: Float32Array, dbias: Float32Array): void;
  colSumAdd(src: Float32Array, rows: number, cols: number, dst: Float32Array): void;
  addInto(dst: Float32Array, src: Float32Array, n: number): void;
  layerNormForward(x: Float32Array, g: Float32Array, b: Float32Array, rows: number, cols: number, eps: number, y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  layerNormBackward(dy: Float32Array, x: Float32Array, g: Float32Array, mean: Float32Array, rstd: Float32Array, rows: number, cols: number, dx: Float32Array, dg: Float32Array, db: Float32Array): void;
  fourierFeatures(pos: Float32Array, src: Int32Array, dst: Int32Array, pairFwd: Int32Array, P: number, F: number, out: Float32Array): void;
  fourierBackward(pos: Float32Array, src: Int32Array, dst: Int32Array, pairFwd: Int32Array, crystalPairOffsets: Int32Array, G: number, F: number, dpsi: Float32Array, dpos: Float32Array): void;
  segmentMean(x: Float32Array, off: Int32Array, S: number, cols: number, out: Float32Array): void;
  segmentMeanBackward(dout: Float32Array, off: Int32Array, S: number, cols: number, dx: Float32Array): void;
  segmentSum(x: Float32Array, off: Int32Array, S: number, cols: number, out: Float32Array): void;
  segmentCentre(x: Float32Array, off: Int32Array, S: number, cols: number): void;
  segmentBroadcastAdd(x: Float32Array, off: Int32Array, S: number, cols: number, src: Float32Array): void;
  gatherRows(table: Float32Array, ids: Int32Array, rows: number, cols: number, out: Float32Array): void;
  scatterAddRows(dout: Float32Array, ids: Int32Array, rows: number, cols: number, dtable: Float32Array): void;
  edgeCombine(z: Float32Array, pq: Float32Array, a: Float32Array, b: Float32Array, c: Float32Array, wv: Float32Array, bias: Float32Array, dv: Float32Array,
    src: Int32Array, dst: Int32Array, crystalOfEdge: Int32Array, pairOfEdge: Int32Array, E: number, cols: number): void;
  edgeCombineBackward(dz: Float32Array, dv: Float32Array, dst: Int32Array, nodeEdgeOffsets: Int32Array, atomOffsets: Int32Array,
    pairOfEdge: Int32Array, crystalPairOffsets: Int32Array, G: number, cols: number,
    da: Float32Array, db: Float32Array, dc: Float32Array, dwv: Float32Array, dpq: Float32Array): void;
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vmax: Float32Array | null, n: number,
    lr: number, b1: number, b2: number, eps: number, wd: number, step: number): void;
  emaUpdate(ema: Float32Array, p: Float32Array, n: number, decay: number): void;
  backends(): string[];
  threads(): number;
  setThreads(n: number): void;
  setGemmBackend(code: number): void;
}

function f32(a: FloatArray, need: number, what: string): Float32Array {
  if (!(a instanceof Float32Array)) throw new TypeError(`native kernels: ${what} must be a Float32Array`);
  if (a.length < need) throw new RangeError(`native kernels: ${what} has ${a.length} elements, needs ${need}`);
  return a;
}

function checkEdges(e: EdgeLayout, numAtoms: number): void {
  if (e.src.length < e.numEdges || e.dst.length < e.numEdges || e.crystalOfEdge.length < e.numEdges || e.pairOfEdge.length < e.numEdges) throw new RangeError('native kernels: EdgeLayout arrays shorter than numEdges');
  if (2 * e.numPairs !== e.numEdges || e.pairFwd.length < e.numPairs || e.pairRev.length < e.numPairs) throw new RangeError('native kernels: EdgeLayout pair arrays inconsistent');
  if (e.nodeEdgeOffsets.length < numAtoms + 1) throw new RangeError('native kernels: EdgeLayout.nodeEdgeOffsets too short');
}

/** Elements a row-major (rows × cols) block with leading dimension ld at offset off spans. */
function span(off: number, rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : off + (rows - 1) * ld + cols;
}

export class NativeKernels implements Kernels {
  readonly name: string;
  readonly supportsFloat64 = false;
  private backendCode = 0;
  /**
   * 'bf16': GEMMs of bf16Eligible shapes get bf16 operands with f32 accumulation (native/gemm_bf16.cc);
   * the caller (select.ts) only asks for it where bf16PrecisionCapabilities().bf16 holds.
   */
  constructor(private readonly addon: Addon, readonly precision: Precision = 'f32', private readonly bf16EveryGemm = false) {
    this.name = precision === 'bf16' ? 'native bf16' : 'native';
  }

  /**
   * The same addon with another precision (the GEMM library choice is process-wide). everyGemm
   * (tests only): bf16 operands for every GEMM with alpha 1, not just the bf16Eligible shapes, so
   * that a tiny network exercises the path everywhere.
   */
  withPrecision(precision: Precision, opts: { everyGemm?: boolean } = {}): NativeKernels {
    const k = new NativeKernels(this.addon, precision, opts.everyGemm === true);
    k.backendCode = this.backendCode;
    return k;
  }

  /** What this CPU and build can do (see precision.ts resolvePrecision). */
  precisionCapabilities(): PrecisionCapabilities {
    return { native: true, bf16: this.addon.bf16Supported(), isa: this.addon.bf16Isa() };
  }

  /** dst[i] = bf16 bits of src[i] (round to nearest even): the conversion the bf16 GEMM uses. */
  toBf16(src: Float32Array, dst: Uint16Array, n: number): void {
    if (src.length < n || dst.length < n) throw new RangeError('native toBf16: arrays shorter than n');
    this.addon.toBf16(src, dst, n);
  }

  /**
   * Keep a bf16 copy of a[0..n) for the GEMMs that read it until unpinOperand/unpinAllOperands
   * (no-op in f32). The caller must unpin before writing the array again.
   */
  pinOperand(a: FloatArray, n: number): void {
    if (this.precision === 'bf16') this.addon.bf16Pin(f32(a, n, 'pinned operand'), n);
  }

  unpinOperand(a: FloatArray): void {
    if (this.precision === 'bf16' && a instanceof Float32Array) this.addon.bf16Unpin(a);
  }

  unpinAllOperands(): void {
    if (this.precision === 'bf16') this.addon.bf16UnpinAll();
  }

  /** Number of pinned bf16 copies (tests). */
  pinnedOperands(): number {
    return this.addon.bf16PinnedCount();
  }

  /** Force a GEMM library for every call ('auto' = per-shape choice). */
  setGemmBackend(name: GemmBackendName): void {
    this.backendCode = BACKEND_CODE[name];
    this.addon.setGemmBackend(this.backendCode);
  }

  setThreads(n: number): void {
    this.addon.setThreads(n);
  }

  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, aOff: number, lda: number,
    b: FloatArray, bOff: number, ldb: number, beta: number, c: FloatArray, cOff: number, ldc: number): void {
    if (m === 0 || n === 0) return;
    if (lda < (transA ? m : k) || ldb < (transB ? k : n) || ldc < n) throw new RangeError('native gemm: leading dimension too small');
    const A = f32(a, transA ? span(aOff, k, m, lda) : span(aOff, m, k, lda), 'gemm A');
    const B = f32(b, transB ? span(bOff, n, k, ldb) : span(bOff, k, n, ldb), 'gemm B');
    const C = f32(c, span(cOff, m, n, ldc), 'gemm C');
    if (this.precision === 'bf16' && alpha === 1 && k > 0 && (this.bf16EveryGemm || bf16Eligible(m, n, k))) {
      this.addon.gemmBf16(transA, transB, m, n, k, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc, this.backendCode);
      return;
    }
    this.addon.gemm(transA, transB, m, n, k, alpha, A, aOff, Math.max(lda, 1), B, bOff, Math.max(ldb, 1), beta, C, cOff, ldc, this.backendCode);
  }

  biasSilu(z: FloatArray, bias: FloatArray | null, rows: number, cols: number, out: FloatArray): void {
    this.addon.biasSilu(f32(z, rows * cols, 'z'), bias ? f32(bias, cols, 'bias') : null, rows, cols, f32(out, rows * cols, 'out'));
  }

  siluBackward(dout: FloatArray, z: FloatArray, n: number, dz: FloatArray): void {
    this.addon.siluBackward(f32(dout, n, 'dout'), f32(z, n, 'z'), n, f32(dz, n, 'dz'));
  }

  hadamard(x: FloatArray, a: FloatArray, b: FloatArray | null, n: number, xa: FloatArray, xb: FloatArray | null): void {
    if ((b === null) !== (xb === null)) throw new TypeError('native hadamard: b and xb go together');
    this.addon.hadamard(f32(x, n, 'x'), f32(a, n, 'a'), b ? f32(b, n, 'b') : null, n, f32(xa, n, 'xa'), xb ? f32(xb, n, 'xb') : null);
  }

  sigmoidGate(z: FloatArray, value: FloatArray | null, n: number, gate: FloatArray, out: FloatArray | null): void {
    if ((value === null) !== (out === null)) throw new TypeError('native sigmoidGate: value and out go together');
    this.addon.sigmoidGate(f32(z, n, 'z'), value ? f32(value, n, 'value') : null, n, f32(gate, n, 'gate'), out ? f32(out, n, 'out') : null);
  }

  sigmoidGateBackward(dout: FloatArray, gate: FloatArray, value: FloatArray | null, n: number, dvalue: FloatArray | null, dz: FloatArray): void {
    if ((value === null) !== (dvalue === null)) throw new TypeError('native sigmoidGateBackward: value and dvalue go together');
    this.addon.sigmoidGateBackward(f32(dout, n, 'dout'), f32(gate, n, 'gate'), value ? f32(value, n, 'value') : null, n, dvalue ? f32(dvalue, n, 'dvalue') : null, f32(dz, n, 'dz'));
  }

  biasSiluSegmentMean(z: FloatArray, bias: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void {
    this.addon.biasSiluSegmentMean(f32(z, offsets[segments]! * cols, 'z'), f32(bias, cols, 'bias'), offsets, segments, cols, f32(out, segments * cols, 'out'));
  }

  siluSegmentMeanBackward(dout: FloatArray, z: FloatArray, offsets: Int32Array, segments: number, cols: number, dz: FloatArray, dbias: FloatArray): void {
    const n = offsets[segments]! * cols;
    this.addon.siluSegmentMeanBackward(f32(dout, segments * cols, 'dout'), f32(z, n, 'z'), offsets, segments, cols, f32(dz, n, 'dz'), f32(dbias, cols, 'dbias'));
  }

  addBias(x: FloatArray, bias: FloatArray, rows: number, cols: number): void {
    this.addon.addBias(f32(x, rows * cols, 'x'), f32(bias, cols, 'bias'), rows, cols);
  }

  colSumAdd(src: FloatArray, rows: number, cols: number, dst: FloatArray): void {
    this.addon.colSumAdd(f32(src, rows * cols, 'src'), rows, cols, f32(dst, cols, 'dst'));
  }

  addInto(dst: FloatArray, src: FloatArray, n: number): void {
    this.addon.addInto(f32(dst, n, 'dst'), f32(src, n, 'src'), n);
  }

  layerNormForward(x: FloatArray, gamma: FloatArray, beta: FloatArray, rows: number, cols: number, eps: number, y: FloatArray, mean: FloatArray, rstd: FloatArray): void {
    const n = rows * cols;
    this.addon.layerNormForward(f32(x, n, 'x'), f32(gamma, cols, 'gamma'), f32(beta, cols, 'beta'), rows, cols, eps, f32(y, n, 'y'), f32(mean, rows, 'mean'), f32(rstd, rows, 'rstd'));
  }

  layerNormBackward(dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray, rows: number, cols: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void {
    const n = rows * cols;
    this.addon.layerNormBackward(f32(dy, n, 'dy'), f32(x, n, 'x'), f32(gamma, cols, 'gamma'), f32(mean, rows, 'mean'), f32(rstd, rows, 'rstd'),
      rows, cols, f32(dx, n, 'dx'), f32(dgamma, cols, 'dgamma'), f32(dbeta, cols, 'dbeta'));
  }

  fourierFeatures(pos: FloatArray, edges: EdgeLayout, freqs: number, out: FloatArray): void {
    const N = edges.nodeEdgeOffsets.length - 1;
    checkEdges(edges, N);
    this.addon.fourierFeatures(f32(pos, 3 * N, 'pos'), edges.src, edges.dst, edges.pairFwd, edges.numPairs, freqs, f32(out, edges.numPairs * 6 * freqs, 'psi'));
  }

  fourierBackward(pos: FloatArray, edges: EdgeLayout, freqs: number, dpsi: FloatArray, dpos: FloatArray): void {
    const N = edges.nodeEdgeOffsets.length - 1;
    checkEdges(edges, N);
    const G = edges.crystalPairOffsets.length - 1;
    this.addon.fourierBackward(f32(pos, 3 * N, 'pos'), edges.src, edges.dst, edges.pairFwd, edges.crystalPairOffsets, G, freqs,
      f32(dpsi, edges.numPairs * 6 * freqs, 'dpsi'), f32(dpos, 3 * N, 'dpos'));
  }

  segmentMean(x: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void {
    this.addon.segmentMean(f32(x, offsets[segments]! * cols, 'x'), offsets, segments, cols, f32(out, segments * cols, 'out'));
  }

  segmentMeanBackward(dout: FloatArray, offsets: Int32Array, segments: number, cols: number, dx: FloatArray): void {
    this.addon.segmentMeanBackward(f32(dout, segments * cols, 'dout'), offsets, segments, cols, f32(dx, offsets[segments]! * cols, 'dx'));
  }

  segmentSum(x: FloatArray, offsets: Int32Array, segments: number, cols: number, out: FloatArray): void {
    this.addon.segmentSum(f32(x, offsets[segments]! * cols, 'x'), offsets, segments, cols, f32(out, segments * cols, 'out'));
  }

  segmentCentre(x: FloatArray, offsets: Int32Array, segments: number, cols: number): void {
    this.addon.segmentCentre(f32(x, offsets[segments]! * cols, 'x'), offsets, segments, cols);
  }

  segmentBroadcastAdd(x: FloatArray, offsets: Int32Array, segments: number, cols: number, src: FloatArray): void {
    this.addon.segmentBroadcastAdd(f32(x, offsets[segments]! * cols, 'x'), offsets, segments, cols, f32(src, segments * cols, 'src'));
  }

  gatherRows(table: FloatArray, ids: Int32Array, cols: number, out: FloatArray): void {
    const rowsInTable = Math.floor(table.length / cols);
    for (let r = 0; r < ids.length; r++) if (ids[r]! < 0 || ids[r]! >= rowsInTable) throw new RangeError(`native gatherRows: id ${ids[r]} out of range`);
    this.addon.gatherRows(f32(table, 0, 'table'), ids, ids.length, cols, f32(out, ids.length * cols, 'out'));
  }

  scatterAddRows(dout: FloatArray, ids: Int32Array, cols: number, dtable: FloatArray): void {
    const rowsInTable = Math.floor(dtable.length / cols);
    for (let r = 0; r < ids.length; r++) if (ids[r]! < 0 || ids[r]! >= rowsInTable) throw new RangeError(`native scatterAddRows: id ${ids[r]} out of range`);
    this.addon.scatterAddRows(f32(dout, ids.length * cols, 'dout'), ids, ids.length, cols, f32(dtable, 0, 'dtable'));
  }

  edgeCombine(z: FloatArray, pq: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray, wv: FloatArray, bias: FloatArray, dv: FloatArray, edges: EdgeLayout, cols: number): void {
    const N = edges.nodeEdgeOffsets.length - 1;
    const G = edges.crystalEdgeOffsets.length - 1;
    checkEdges(edges, N);
    this.addon.edgeCombine(f32(z, edges.numEdges * cols, 'z'), f32(pq, edges.numPairs * 2 * cols, 'pq'), f32(a, N * cols, 'a'), f32(b, N * cols, 'b'),
      f32(c, G * cols, 'c'), f32(wv, 3 * cols, 'wv'), f32(bias, cols, 'bias'), f32(dv, 3 * edges.numEdges, 'dv'),
      edges.src, edges.dst, edges.crystalOfEdge, edges.pairOfEdge, edges.numEdges, cols);
  }

  edgeCombineBackward(dz: FloatArray, dv: FloatArray, edges: EdgeLayout, cols: number, numAtoms: number, numCrystals: number,
    da: FloatArray, db: FloatArray, dc: FloatArray, dwv: FloatArray, dpq: FloatArray): void {
    checkEdges(edges, numAtoms);
    if (edges.atomOffsets.length < numCrystals + 1 || edges.crystalPairOffsets.length < numCrystals + 1) throw new RangeError('native kernels: EdgeLayout offsets too short');
    this.addon.edgeCombineBackward(f32(dz, edges.numEdges * cols, 'dz'), f32(dv, 3 * edges.numEdges, 'dv'), edges.dst, edges.nodeEdgeOffsets, edges.atomOffsets,
      edges.pairOfEdge, edges.crystalPairOffsets, numCrystals, cols, f32(da, numAtoms * cols, 'da'), f32(db, numAtoms * cols, 'db'),
      f32(dc, numCrystals * cols, 'dc'), f32(dwv, 3 * cols, 'dwv'), f32(dpq, edges.numPairs * 2 * cols, 'dpq'));
  }

  adamw(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, vmax: FloatArray | null, n: number, hp: AdamWHyper): void {
    this.addon.adamw(f32(p, n, 'p'), f32(g, n, 'g'), f32(m, n, 'm'), f32(v, n, 'v'), vmax ? f32(vmax, n, 'vmax') : null, n,
      hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weightDecay, hp.step);
  }

  emaUpdate(ema: FloatArray, p: FloatArray, n: number, decay: number): void {
    this.addon.emaUpdate(f32(ema, n, 'ema'), f32(p, n, 'p'), n, decay);
  }
}

export interface NativeInfo {
  kernels: NativeKernels;
  /** GEMM libraries the addon was built with, e.g. ['openblas', 'dnnl'] */
  backends: string[];
  threads: number;
}

/** Repository root: this file is src/engine/native.ts or dist/engine/native.js. */
function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function nativeAddonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'kldm_native.node');
}

let cached: NativeInfo | null | undefined;

/**
 * Loads the addon so that it is never unmapped (issue #16). Node dlclose()s an
 * addon when the worker thread (environment) that loaded it exits; the OpenMP
 * and BLAS worker threads the addon started keep running code of the addon and
 * of libgomp, so unmapping it crashed the server with SIGSEGV after a job's
 * worker ended. RTLD_NODELETE keeps the library, and with it libgomp/oneDNN/
 * OpenBLAS, mapped for the life of the process; the build also links the addon
 * with -z nodelete (binding.gyp), so it stays resident however it is loaded.
 */
function dlopenResident(path: string): Addon {
  // Node does not export RTLD_NODELETE; it is 0x1000 in both glibc's and musl's <dlfcn.h> on Linux
  const nodelete = process.platform === 'linux' ? 0x1000 : undefined;
  const now = osConstants.dlopen.RTLD_NOW;
  if (nodelete === undefined || now === undefined) return createRequire(import.meta.url)(path) as Addon;
  const mod = { exports: {} as Addon };
  process.dlopen(mod, path, now | nodelete);
  return mod.exports;
}

/** The native kernels, or null when the addon is absent or fails to load (reason in loadNativeKernels.lastError). */
export function loadNativeKernels(): NativeInfo | null {
  if (cached !== undefined) return cached;
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    loadNativeKernels.lastError = `${path} not built`;
    cached = null;
    return cached;
  }
  try {
    // OpenMP threads that spin after each parallel region would steal the second core
    // from the BLAS threads on a 2-core machine; libgomp reads this when the addon loads.
    process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';
    const addon = dlopenResident(path);
    if (addon.abiVersion !== NATIVE_ABI_VERSION) {
      loadNativeKernels.lastError = `${path} is stale (ABI ${String(addon.abiVersion)}, need ${NATIVE_ABI_VERSION}); run npm run build:native`;
      cached = null;
      return cached;
    }
    // KLDM_THREADS caps BLAS and OpenMP threads (e.g. 1 per process when two jobs share 2 cores)
    const want = Number(process.env['KLDM_THREADS'] ?? '');
    if (Number.isInteger(want) && want > 0) addon.setThreads(want);
    cached = { kernels: new NativeKernels(addon), backends: addon.backends(), threads: addon.threads() };
  } catch (err) {
    loadNativeKernels.lastError = `failed to load ${path}: ${err instanceof Error ? err.message : String(err)}`;
    cached = null;
  }
  return cached;
}
loadNativeKernels.lastError = undefined as string | undefined;
