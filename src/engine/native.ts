/**
 * Loader for the native addon (native/*.cc, built by scripts/build-native.mjs
 * into build/Release/kldm_native.node). Returns null when it is absent or fails
 * to load; the reason is kept in loadNativeKernels.lastError.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernels } from './kernels.js';

export interface NativeInfo {
  kernels: Kernels;
  /** which GEMM backends the addon was built with, e.g. ['openblas', 'dnnl'] */
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

export function loadNativeKernels(): NativeInfo | null {
  if (cached !== undefined) return cached;
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    loadNativeKernels.lastError = `${path} not built`;
    cached = null;
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as { makeKernels(): Kernels; backends(): string[]; threads(): number };
    cached = { kernels: addon.makeKernels(), backends: addon.backends(), threads: addon.threads() };
  } catch (err) {
    loadNativeKernels.lastError = `failed to load ${path}: ${err instanceof Error ? err.message : String(err)}`;
    cached = null;
  }
  return cached;
}
loadNativeKernels.lastError = undefined as string | undefined;
