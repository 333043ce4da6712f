/**
 * Chooses the kernels: the native addon when it was built at install time
 * (build/Release/kldm_native.node), else the TypeScript reference with a
 * one-line warning on stderr (printed once per process).
 *
 * Precision (precision.ts): f32 unless bf16 is asked for, by setEnginePrecision() (the training
 * config's engine.precision, sample/predict --precision) or by the environment variable
 * KLDM_PRECISION, which overrides both. A bf16 request prints one line saying what is used.
 */
import type { Kernels } from './kernels.js';
import { loadNativeKernels, NativeKernels } from './native.js';
import { parsePrecision, resolvePrecision, type Precision, type PrecisionChoice } from './precision.js';
import { referenceKernels } from './reference.js';

let base: Kernels | null = null;
let requested: Precision = 'f32';
const byPrecision = new Map<Precision, Kernels>();
let announced: string | null = null;

function baseKernels(): Kernels {
  if (base) return base;
  const native = process.env['KLDM_ENGINE'] === 'reference' ? null : loadNativeKernels();
  if (native) {
    base = native.kernels;
  } else {
    const why = process.env['KLDM_ENGINE'] === 'reference' ? 'KLDM_ENGINE=reference' : (loadNativeKernels.lastError ?? 'not built');
    process.stderr.write(`kldm: native engine unavailable (${why}); using the slow TypeScript reference kernels (install libopenblas-dev/libdnnl-dev and build tools, then npm rebuild)\n`);
    base = referenceKernels;
  }
  return base;
}

/** The precision asked for: KLDM_PRECISION when set, else the last setEnginePrecision() (default f32). */
export function requestedPrecision(): Precision {
  const env = process.env['KLDM_PRECISION'];
  return env !== undefined && env !== '' ? parsePrecision(env, 'KLDM_PRECISION') : requested;
}

/** Ask for a precision for the kernels getKernels() returns from now on (KLDM_PRECISION overrides it). */
export function setEnginePrecision(p: Precision): void {
  requested = p;
}

/** The precision used for a request (KLDM_PRECISION overrides it), with the line that says why. */
export function enginePrecision(want: Precision = requestedPrecision()): PrecisionChoice {
  const k = baseKernels();
  const caps = k instanceof NativeKernels ? k.precisionCapabilities() : { native: false, bf16: false, isa: 'none' };
  const env = process.env['KLDM_PRECISION'];
  return resolvePrecision(env !== undefined && env !== '' ? parsePrecision(env, 'KLDM_PRECISION') : want, caps);
}

/**
 * The kernels for a precision (the training config's engine.precision, a --precision flag;
 * KLDM_PRECISION overrides it). When bf16 is asked for, one line on stderr says what is used.
 */
export function kernelsForPrecision(want: Precision): Kernels {
  const b = baseKernels();
  const choice = enginePrecision(want);
  if (choice.line.includes('bf16') && announced !== choice.line) {
    process.stderr.write(`${choice.line}\n`);
    announced = choice.line;
  }
  let k = byPrecision.get(choice.precision);
  if (!k) {
    k = choice.precision === 'bf16' && b instanceof NativeKernels ? b.withPrecision('bf16') : b;
    byPrecision.set(choice.precision, k);
  }
  return k;
}

/** The kernels of the requested precision (setEnginePrecision / KLDM_PRECISION; default f32). */
export function getKernels(): Kernels {
  return kernelsForPrecision(requested);
}
