/**
 * CSP samplers (spec §7): Euler–Maruyama (`em`, §7.1, one network call per
 * step) and predictor–corrector (`pc`, §7.2, Langevin corrector(s) then a
 * deterministic predictor, two network calls per step), for the TDM
 * (positions + velocities, §3) and the lattice VP-SDE (§4); atom types are the
 * given (clean) CSP types.
 *
 * Time grid t_i = linspace(1, t_f, n+1); step i uses t = t_i, Δt = t_{i+1} − t_i < 0;
 * TDM internal s = 2t, h = 2|Δt|. The state starts from the priors (§3.6, §4).
 * Velocity noise ξ is centred per crystal; lattice noise z is plain N(0, I).
 * Internal state is float64 (x ∈ (−π, π], u, l); each network call gets the
 * float32 network-scale view (p = x/2π, v = u/2π, l, t). The NetInput object
 * and its arrays are reused between calls: a network must not keep references.
 */
import type { BatchLayout, NetInput, NetOutput, ScoreNetwork } from '../network/types.js';
import { centredNormal } from '../diffusion/centre.js';
import { tdmPrior, velocityScore, type TdmParameterisation } from '../diffusion/tdm.js';
import { vpForward, vpScore, DEFAULT_VP_SCHEDULE, type VpParameterisation, type VpSchedule } from '../diffusion/latticeVp.js';
import { internalTime } from '../diffusion/tdmKernel.js';
import { mod1, wrap1 } from '../diffusion/wrap.js';
import { KldmError } from '../util/errors.js';
import {
  crystalGroupOffsets,
  langevinCorrectorStep,
  tdmCorrectorStep,
  tdmEmStep,
  tdmPredictorStep,
  vpEmStep,
  vpPredictorStep,
} from './steps.js';
import { TypeSampler, type TypeSamplerOptions } from './typeSampler.js';

const TWO_PI = 2 * Math.PI;

export type SamplerMethod = 'em' | 'pc';

/** What the sampler needs to know about the crystals to generate (CSP: composition and atom order). */
export interface CspSamplingBatch {
  layout: BatchLayout;
  /** atomic numbers, N (given, clean); ignored (any length-N array) when typeDiffusion is set */
  types: Int32Array;
  /**
   * De-novo generation (spec §5, §7): the types are generated too, by this type diffusion (or held
   * fixed with `fixed`); the result's `types` are then the generated ids.
   */
  typeDiffusion?: TypeSamplerOptions;
  /**
   * Diagnostic, not CSP: clean lattice features l_0 (G*6, §1.4) that replace the lattice process. The
   * lattice then follows the forward path l_t = α(t)·l_0 + σ(t)·ε (§4) with ε the prior draw of each
   * crystal, pinned after every update, so the network sees the noise levels it was trained on and
   * the result has (almost exactly) the true cell. Sampling with it measures what the positions part
   * of a model reaches when the lattice is right (`kldm sample --oracle-lattice`).
   */
  oracleLattice?: Float64Array;
}

export interface SamplerOptions {
  /** 'em' (§7.1) or 'pc' (§7.2); default 'pc' (the reference's test setting, §7.4) */
  method?: SamplerMethod;
  /** number of steps n, default 1000 */
  nSteps?: number;
  /** final time t_f, default 1e−3 (the README's evaluation uses 0, §7.4) */
  tFinal?: number;
  /** corrector τ, default 0.25 (§7.2) */
  tau?: number;
  /** corrector steps per PC step, default 1 */
  correctorSteps?: number;
  /** move positions in the corrector too (§7.2, §13.8), default true */
  correctPos?: boolean;
  /** default 'simplified' (§3.4-3.5) */
  tdmParameterisation?: TdmParameterisation;
  /** default 'x0' (§4) */
  latticeParameterisation?: VpParameterisation;
  latticeSchedule?: VpSchedule;
  /** called after every step with (steps done, total steps) */
  onProgress?: (step: number, total: number) => void;
  /** checked before every step; aborting throws a KldmError */
  signal?: AbortSignal;
  /** record a trajectory frame every k steps (plus the prior and the final state); 0 = off (default) */
  trajectoryEvery?: number;
}

/** One recorded state of the reverse process (network scale). */
export interface TrajectoryFrame {
  /** steps completed (0 = prior) */
  step: number;
  /** network time of this state */
  t: number;
  /** positions p = wrap1(x/2π) ∈ (−½, ½], N*3 */
  pos: Float32Array;
  /** velocities v = u/2π, N*3 */
  vel: Float32Array;
  /** lattice features l, G*6 */
  lattice: Float32Array;
  /** DNG: the atom types of this state, N (MASK_ID = 100 where still masked; continuous variants decoded, §7.3) */
  types?: Int32Array;
}

export interface SamplerResult {
  layout: BatchLayout;
  types: Int32Array;
  /** final network-scale positions p ∈ (−½, ½], N*3 */
  pos: Float32Array;
  /** final fractional coordinates f = p mod 1 ∈ [0, 1), N*3 (§7.3) */
  frac: Float64Array;
  /** final lattice features l, G*6 (decode with featuresToLattice, §7.3) */
  lattice: Float64Array;
  /** recorded frames (empty unless trajectoryEvery > 0) */
  trajectory: TrajectoryFrame[];
  /** network calls made */
  networkCalls: number;
}

/** t_i = linspace(1, t_f, n+1) (numpy semantics: the last point is exactly t_f). */
export function timeGrid(nSteps: number, tFinal: number): Float64Array {
  const grid = new Float64Array(nSteps + 1);
  const step = (tFinal - 1) / nSteps;
  for (let i = 0; i < nSteps; i++) grid[i] = 1 + i * step;
  grid[nSteps] = tFinal;
  return grid;
}

/** SamplerOptions with every default filled in. */
export interface ResolvedSamplerOptions {
  method: SamplerMethod;
  nSteps: number;
  tFinal: number;
  tau: number;
  correctorSteps: number;
  correctPos: boolean;
  tdmParameterisation: TdmParameterisation;
  latticeParameterisation: VpParameterisation;
  latticeSchedule: VpSchedule;
  trajectoryEvery: number;
}

function resolveOptions(o: SamplerOptions): ResolvedSamplerOptions {
  const r: ResolvedSamplerOptions = {
    method: o.method ?? 'pc',
    nSteps: o.nSteps ?? 1000,
    tFinal: o.tFinal ?? 1e-3,
    tau: o.tau ?? 0.25,
    correctorSteps: o.correctorSteps ?? 1,
    correctPos: o.correctPos ?? true,
    tdmParameterisation: o.tdmParameterisation ?? 'simplified',
    latticeParameterisation: o.latticeParameterisation ?? 'x0',
    latticeSchedule: o.latticeSchedule ?? DEFAULT_VP_SCHEDULE,
    trajectoryEvery: o.trajectoryEvery ?? 0,
  };
  if (r.method !== 'em' && r.method !== 'pc') throw new KldmError(`unknown sampler '${String(r.method)}' (use em or pc)`);
  if (!Number.isInteger(r.nSteps) || r.nSteps < 1) throw new KldmError(`number of sampling steps must be a positive integer, got ${r.nSteps}`);
  if (!(r.tFinal >= 0 && r.tFinal < 1)) throw new KldmError(`final sampling time t_f must be in [0, 1), got ${r.tFinal}`);
  if (!(r.tau > 0)) throw new KldmError(`corrector tau must be positive, got ${r.tau}`);
  if (!Number.isInteger(r.correctorSteps) || r.correctorSteps < 0) throw new KldmError(`corrector steps must be an integer >= 0`);
  if (!Number.isInteger(r.trajectoryEvery) || r.trajectoryEvery < 0) throw new KldmError(`trajectory interval must be an integer >= 0`);
  if (r.latticeParameterisation !== 'x0' && r.latticeParameterisation !== 'eps') {
    throw new KldmError(`unknown lattice parameterisation '${String(r.latticeParameterisation)}' (use x0 or eps, spec §4)`);
  }
  if (r.tdmParameterisation === 'full' || r.tdmParameterisation === 'simplified') return r;
  throw new KldmError(`unknown TDM parameterisation '${String(r.tdmParameterisation)}'`);
}

/**
 * The reverse process as an explicit state machine: `prior()` then `step(i)`
 * for i = 0…n−1. sampleCsp / sampleCspSync drive it.
 */
export class CspSampler {
  readonly options: ResolvedSamplerOptions;
  readonly grid: Float64Array;
  /** internal positions x ∈ (−π, π], N*3 */
  x: Float64Array;
  /** internal velocities u, N*3 */
  u: Float64Array;
  /** lattice features l, G*6 */
  l: Float64Array;
  networkCalls = 0;
  private readonly input: NetInput;
  private readonly scoreU: Float64Array;
  private readonly scoreL: Float64Array;
  private readonly xi: Float64Array;
  private readonly z: Float64Array;
  private readonly latticeOffsets: Int32Array;
  /** DNG type process (null for CSP) */
  readonly typeSampler: TypeSampler | null;
  /** oracle lattice: l_0 and the prior draw ε of the forward path (null = the lattice is sampled) */
  private readonly oracle: { l0: Float64Array; eps: Float64Array } | null;

  constructor(
    private readonly net: ScoreNetwork,
    private readonly batch: CspSamplingBatch,
    private readonly rng: { uniform(): number; normal(): number },
    options: SamplerOptions = {},
  ) {
    this.options = resolveOptions(options);
    const { layout, types } = batch;
    if (types.length !== layout.numAtoms) throw new KldmError(`sampler: ${types.length} atom types for ${layout.numAtoms} atoms`);
    const n = layout.numAtoms * 3;
    const G = layout.numCrystals;
    this.grid = timeGrid(this.options.nSteps, this.options.tFinal);
    this.x = new Float64Array(n);
    this.u = new Float64Array(n);
    this.l = new Float64Array(G * 6);
    this.scoreU = new Float64Array(n);
    this.scoreL = new Float64Array(G * 6);
    this.xi = new Float64Array(n);
    this.z = new Float64Array(G * 6);
    this.latticeOffsets = crystalGroupOffsets(G, 6);
    this.typeSampler = batch.typeDiffusion ? new TypeSampler(layout, batch.typeDiffusion) : null;
    if (batch.oracleLattice !== undefined && batch.oracleLattice.length !== G * 6) {
      throw new KldmError(`sampler: oracle lattice has ${batch.oracleLattice.length} values for ${G} crystals (need ${G * 6})`);
    }
    this.oracle = batch.oracleLattice ? { l0: batch.oracleLattice, eps: new Float64Array(G * 6) } : null;
    this.input = {
      layout,
      t: new Float32Array(G),
      pos: new Float32Array(n),
      vel: new Float32Array(n),
      types,
      lattice: new Float32Array(G * 6),
    };
  }

  /** Draw the priors: TDM (§3.6) then lattice N(0, I_6) (§4). */
  prior(): void {
    const st = tdmPrior(this.batch.layout, this.rng);
    this.x.set(st.x);
    this.u.set(st.u);
    for (let j = 0; j < this.l.length; j++) this.l[j] = this.rng.normal();
    if (this.oracle) {
      this.oracle.eps.set(this.l);
      this.pinLattice(this.grid[0]!);
    }
    this.typeSampler?.prior(this.rng);
  }

  /** Oracle lattice only: put l on the forward path at time t (α(t)·l_0 + σ(t)·ε). */
  private pinLattice(t: number): void {
    if (!this.oracle) return;
    const { l0, eps } = this.oracle;
    this.l.set(vpForward(l0, eps, new Float64Array(l0.length / 6).fill(t), 6, this.options.latticeSchedule));
  }

  /** One network call at the current state and time t; fills the two scores (§3.5, §4). */
  private scores(t: number): void {
    const inp = this.input;
    inp.t.fill(t);
    for (let j = 0; j < this.x.length; j++) {
      inp.pos[j] = this.x[j]! / TWO_PI;
      inp.vel[j] = this.u[j]! / TWO_PI;
    }
    for (let j = 0; j < this.l.length; j++) inp.lattice[j] = this.l[j]!;
    this.typeSampler?.fillInput(inp, t, this.rng);
    const out: NetOutput = this.net.predict(inp);
    this.networkCalls++;
    if (out.v.length !== this.x.length || out.l.length !== this.l.length) {
      throw new KldmError(`network output sizes (${out.v.length}, ${out.l.length}) do not match the batch`);
    }
    velocityScore(this.scoreU, out.v, this.u, t, this.options.tdmParameterisation);
    vpScore(this.scoreL, out.l, this.l, t, this.options.latticeParameterisation, this.options.latticeSchedule);
    this.typeSampler?.readOutput(out.h, t);
  }

  private drawNoise(): void {
    centredNormal(this.xi, this.batch.layout, this.rng);
    for (let j = 0; j < this.z.length; j++) this.z[j] = this.rng.normal();
  }

  /** Step i: from t_i to t_{i+1}. */
  step(i: number): void {
    const t = this.grid[i]!;
    const dt = this.grid[i + 1]! - t;
    const s = internalTime(t);
    const h = 2 * Math.abs(dt);
    const o = this.options;
    if (o.method === 'em') {
      // §7.1
      this.scores(t);
      this.drawNoise();
      tdmEmStep(this.x, this.u, this.scoreU, this.xi, h);
      vpEmStep(this.l, this.scoreL, this.z, t, dt, o.latticeSchedule);
      this.pinLattice(t + dt);
      this.typeSampler?.emStep(t, dt, this.rng);
      return;
    }
    // §7.2 corrector(s), network call #1 at (state, t)
    for (let c = 0; c < o.correctorSteps; c++) {
      this.scores(t);
      this.drawNoise();
      tdmCorrectorStep(this.x, this.u, this.scoreU, this.xi, this.batch.layout, o.tau, h, o.correctPos);
      langevinCorrectorStep(this.l, this.scoreL, this.z, this.latticeOffsets, o.tau);
      this.pinLattice(t);
      this.typeSampler?.correctorStep(o.tau, this.rng);
    }
    // §7.2 predictor, network call #2 at the corrected state, same t
    this.scores(t);
    tdmPredictorStep(this.x, this.u, this.scoreU, s, h);
    vpPredictorStep(this.l, this.scoreL, t, dt, o.latticeSchedule);
    this.pinLattice(t + dt);
    this.typeSampler?.predictorStep(t, dt, this.rng);
  }

  /** Network-scale snapshot of the current state after `stepsDone` steps. */
  frame(stepsDone: number): TrajectoryFrame {
    const n = this.x.length;
    const pos = new Float32Array(n);
    const vel = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      pos[j] = wrap1(this.x[j]! / TWO_PI);
      vel[j] = this.u[j]! / TWO_PI;
    }
    const frame: TrajectoryFrame = { step: stepsDone, t: this.grid[stepsDone]!, pos, vel, lattice: Float32Array.from(this.l) };
    if (this.typeSampler) frame.types = this.typeSampler.currentIds();
    return frame;
  }

  /** Final projection (§7.3): velocities discarded, f = p mod 1, lattice features kept for decoding. */
  result(trajectory: TrajectoryFrame[]): SamplerResult {
    const n = this.x.length;
    const pos = new Float32Array(n);
    const frac = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const p = this.x[j]! / TWO_PI;
      pos[j] = wrap1(p);
      frac[j] = mod1(p);
    }
    return {
      layout: this.batch.layout,
      types: this.typeSampler ? this.typeSampler.finalIds() : this.batch.types,
      pos,
      frac,
      lattice: Float64Array.from(this.l),
      trajectory,
      networkCalls: this.networkCalls,
    };
  }
}

function checkAbort(signal: AbortSignal | undefined, step: number, total: number): void {
  if (signal?.aborted) throw new KldmError(`sampling aborted at step ${step}/${total}`, { exitCode: 130 });
}

function shouldRecord(every: number, stepsDone: number, total: number): boolean {
  return every > 0 && (stepsDone % every === 0 || stepsDone === total);
}

/** Run the whole reverse process synchronously (for validation inside training, tests). */
export function sampleCspSync(
  net: ScoreNetwork,
  batch: CspSamplingBatch,
  rng: { uniform(): number; normal(): number },
  options: SamplerOptions = {},
): SamplerResult {
  const sampler = new CspSampler(net, batch, rng, options);
  const n = sampler.options.nSteps;
  const every = sampler.options.trajectoryEvery;
  const trajectory: TrajectoryFrame[] = [];
  sampler.prior();
  if (every > 0) trajectory.push(sampler.frame(0));
  for (let i = 0; i < n; i++) {
    checkAbort(options.signal, i, n);
    sampler.step(i);
    if (shouldRecord(every, i + 1, n)) trajectory.push(sampler.frame(i + 1));
    options.onProgress?.(i + 1, n);
  }
  return sampler.result(trajectory);
}

/**
 * Same as sampleCspSync but yields to the event loop between steps, so that an
 * AbortSignal fired by a timer or a signal handler (Ctrl-C) is seen.
 */
export async function sampleCsp(
  net: ScoreNetwork,
  batch: CspSamplingBatch,
  rng: { uniform(): number; normal(): number },
  options: SamplerOptions = {},
): Promise<SamplerResult> {
  const sampler = new CspSampler(net, batch, rng, options);
  const n = sampler.options.nSteps;
  const every = sampler.options.trajectoryEvery;
  const trajectory: TrajectoryFrame[] = [];
  sampler.prior();
  if (every > 0) trajectory.push(sampler.frame(0));
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    checkAbort(options.signal, i, n);
    sampler.step(i);
    if (shouldRecord(every, i + 1, n)) trajectory.push(sampler.frame(i + 1));
    options.onProgress?.(i + 1, n);
  }
  return sampler.result(trajectory);
}
