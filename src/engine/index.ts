export type { Kernels, FloatArray, EdgeLayout, AdamWHyper } from './kernels.js';
export { referenceKernels } from './reference.js';
export { loadNativeKernels, nativeAddonPath, NativeKernels, type NativeInfo, type GemmBackendName } from './native.js';
export { getKernels } from './select.js';
