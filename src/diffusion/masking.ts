/**
 * Discrete masking diffusion on atom types, for de-novo generation (spec §5.3,
 * choices §13.11-13.12): class id = atomic number Z, K = 100 classes, mask id 100.
 *
 *   keep-probability α_m(t) = (1 − 2ε)·ᾱ(t) + ε,  ε = 1e−4
 *   ᾱ: linear 1 − t, cosine 1 − cos(π/2·(1 − t)), poly2 1 − t²
 *   α_m'(t) = (1 − 2ε)·ᾱ'(t);  loss weight w(t) = −α_m'(t)/(1 − α_m(t)) > 0
 */

export type MaskSchedule = 'linear' | 'cosine' | 'poly2';

export const MASK_EPS = 1e-4;
/** Number of classes K and the mask id (= K), spec §13.12. */
export const NUM_TYPE_CLASSES = 100;
export const MASK_ID = NUM_TYPE_CLASSES;

function alphaBar(t: number, schedule: MaskSchedule): number {
  switch (schedule) {
    case 'linear':
      return 1 - t;
    case 'cosine':
      return 1 - Math.cos((Math.PI / 2) * (1 - t));
    case 'poly2':
      return 1 - t * t;
  }
}

function alphaBarDerivative(t: number, schedule: MaskSchedule): number {
  switch (schedule) {
    case 'linear':
      return -1;
    case 'cosine':
      return -(Math.PI / 2) * Math.sin((Math.PI / 2) * (1 - t));
    case 'poly2':
      return -2 * t;
  }
}

/** α_m(t): probability that an atom still shows its class at time t. */
export function maskKeepProbability(t: number, schedule: MaskSchedule = 'linear', eps = MASK_EPS): number {
  return (1 - 2 * eps) * alphaBar(t, schedule) + eps;
}

/** α_m'(t). */
export function maskKeepProbabilityDerivative(t: number, schedule: MaskSchedule = 'linear', eps = MASK_EPS): number {
  return (1 - 2 * eps) * alphaBarDerivative(t, schedule);
}

/** Loss weight w(t) = −α_m'(t)/(1 − α_m(t)) (spec §5.3). */
export function maskLossWeight(t: number, schedule: MaskSchedule = 'linear', eps = MASK_EPS): number {
  return -maskKeepProbabilityDerivative(t, schedule, eps) / (1 - maskKeepProbability(t, schedule, eps));
}

/** Probability q that a masked atom is revealed in the step t → t + Δt (Δt < 0): (α_m(t+Δt) − α_m(t))/(1 − α_m(t)). */
export function unmaskProbability(t: number, dt: number, schedule: MaskSchedule = 'linear', eps = MASK_EPS): number {
  const a = maskKeepProbability(t, schedule, eps);
  return (maskKeepProbability(t + dt, schedule, eps) - a) / (1 - a);
}

/** Forward draw: each atom keeps its class with probability α_m(t) of its crystal, else becomes MASK_ID. */
export function maskTypes(
  types: ArrayLike<number>,
  tOfAtom: ArrayLike<number>,
  rng: { uniform(): number },
  schedule: MaskSchedule = 'linear',
): Int32Array {
  const out = new Int32Array(types.length);
  for (let i = 0; i < types.length; i++) {
    out[i] = rng.uniform() < maskKeepProbability(tOfAtom[i]!, schedule) ? types[i]! : MASK_ID;
  }
  return out;
}

/** log-softmax of one row of K logits, in float64. */
function logSoftmaxRow(logits: ArrayLike<number>, offset: number, K: number, out: Float64Array): void {
  let m = -Infinity;
  for (let c = 0; c < K; c++) m = Math.max(m, logits[offset + c]!);
  let sum = 0;
  for (let c = 0; c < K; c++) sum += Math.exp(logits[offset + c]! - m);
  const lse = m + Math.log(sum);
  for (let c = 0; c < K; c++) out[c] = logits[offset + c]! - lse;
}

/**
 * Masked cross-entropy L_h = mean over atoms of w(t)·1[masked]·(−log softmax(out_i)[Z_i])
 * (spec §5.3; `simpleLoss` sets w = 1), and its gradient w.r.t. the logits (N×K).
 */
export function maskingLoss(
  logits: ArrayLike<number>,
  cleanTypes: ArrayLike<number>,
  noisyTypes: ArrayLike<number>,
  tOfAtom: ArrayLike<number>,
  options: { schedule?: MaskSchedule; simpleLoss?: boolean; numClasses?: number } = {},
): { loss: number; grad: Float32Array } {
  const K = options.numClasses ?? NUM_TYPE_CLASSES;
  const N = cleanTypes.length;
  if (logits.length !== N * K) throw new Error(`maskingLoss: logits must be ${N}×${K}`);
  const grad = new Float32Array(N * K);
  const lsm = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < N; i++) {
    if (noisyTypes[i] !== MASK_ID) continue;
    const w = options.simpleLoss ? 1 : maskLossWeight(tOfAtom[i]!, options.schedule ?? 'linear');
    logSoftmaxRow(logits, i * K, K, lsm);
    const z = cleanTypes[i]!;
    total += -w * lsm[z]!;
    for (let c = 0; c < K; c++) grad[i * K + c] = (w * (Math.exp(lsm[c]!) - (c === z ? 1 : 0))) / N;
  }
  return { loss: N > 0 ? total / N : 0, grad };
}

/**
 * Reverse masking step (spec §5.3): every masked atom draws from the (K+1)-way
 * categorical [q·softmax(logits)_1..K, 1 − q] (last = stay masked); revealed
 * atoms never change. Updates `types` in place.
 */
export function maskingReverseStep(
  types: Int32Array,
  logits: ArrayLike<number>,
  q: number,
  rng: { uniform(): number },
  numClasses = NUM_TYPE_CLASSES,
): void {
  const K = numClasses;
  const lsm = new Float64Array(K);
  for (let i = 0; i < types.length; i++) {
    if (types[i] !== MASK_ID) continue;
    const u = rng.uniform();
    if (u >= q) continue; // stays masked with probability 1 − q
    logSoftmaxRow(logits, i * K, K, lsm);
    // u/q is uniform on [0,1) given u < q: pick the class by inverse CDF of the softmax
    const target = u / q;
    let acc = 0;
    // if rounding leaves the cumulative sum just below target, take the last class with non-zero
    // probability (never one whose logit is −∞, e.g. an element excluded by the sampler)
    let chosen = -1;
    for (let c = 0; c < K; c++) {
      const p = Math.exp(lsm[c]!);
      if (p > 0) chosen = c;
      acc += p;
      if (target < acc) break;
    }
    types[i] = chosen;
  }
}

/**
 * Final clean-up (choice of §13.11): atoms still masked after the last step take
 * the argmax of the last prediction instead of decoding the mask id.
 */
export function unmaskRemaining(types: Int32Array, logits: ArrayLike<number>, numClasses = NUM_TYPE_CLASSES): number {
  let count = 0;
  for (let i = 0; i < types.length; i++) {
    if (types[i] !== MASK_ID) continue;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (logits[i * numClasses + c]! > logits[i * numClasses + best]!) best = c;
    types[i] = best;
    count++;
  }
  return count;
}
