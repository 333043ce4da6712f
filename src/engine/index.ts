export type { Kernels, FloatArray, EdgeLayout, AdamWHyper } from './kernels.js';
export { referenceKernels } from './reference.js';
export { loadNativeKernels, nativeAddonPath, NativeKernels, type NativeInfo, type GemmBackendName } from './native.js';
export { getKernels, kernelsForPrecision, setEnginePrecision, enginePrecision } from './select.js';
export { PRECISIONS, parsePrecision, resolvePrecision, bf16Eligible, roundToBf16, type Precision, type PrecisionChoice, type PrecisionCapabilities } from './precision.js';
