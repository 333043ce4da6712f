/**
 * Chooses the kernels: the native addon when it was built at install time
 * (build/Release/kldm_native.node), else the TypeScript reference with a
 * one-line warning on stderr (printed once per process).
 */
import type { Kernels } from './kernels.js';
import { loadNativeKernels } from './native.js';
import { referenceKernels } from './reference.js';

let chosen: Kernels | null = null;

export function getKernels(): Kernels {
  if (chosen) return chosen;
  const native = process.env['KLDM_ENGINE'] === 'reference' ? null : loadNativeKernels();
  if (native) {
    chosen = native.kernels;
  } else {
    const why = process.env['KLDM_ENGINE'] === 'reference' ? 'KLDM_ENGINE=reference' : (loadNativeKernels.lastError ?? 'not built');
    process.stderr.write(`kldm: native engine unavailable (${why}); using the slow TypeScript reference kernels (install libopenblas-dev/libdnnl-dev and build tools, then npm rebuild)\n`);
    chosen = referenceKernels;
  }
  return chosen;
}
