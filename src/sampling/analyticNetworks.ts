/**
 * Analytic score networks: exact scores of known target distributions, written
 * independently of the samplers. They exist to test samplers end to end (here and
 * in training/prediction tests) without a trained model; not exported from the
 * package index.
 */
import { type BatchLayout, type NetInput, type NetOutput, type ScoreNetwork } from '../network/types.js';
import { vpAlpha, vpSigma, type VpParameterisation } from '../diffusion/latticeVp.js';
import { tdmCoefficients } from '../diffusion/tdmKernel.js';
import { scoreNormAt } from '../diffusion/scoreNorm.js';
import { wrappedNormalG } from '../diffusion/wrappedNormal.js';
import { centreInPlace } from '../diffusion/centre.js';
import { wrap2pi } from '../diffusion/wrap.js';

const TWO_PI = 2 * Math.PI;

/**
 * Velocity head 0; lattice head = the exact score of l_0 ~ N(m, v²) per component, written as the
 * head of the given parameterisation (spec §4): x0 (default) outputs l̂_0 with (α l̂_0 − l_t)/σ² = ŝ,
 * eps outputs ε̂ = −σ·ŝ.
 */
export class GaussianLatticeNet implements ScoreNetwork {
  calls: NetInput[] = [];
  constructor(
    private readonly m: number,
    private readonly v: number,
    private readonly record = false,
    private readonly parameterisation: VpParameterisation = 'x0',
  ) {}
  predict(input: NetInput): NetOutput {
    if (this.record) {
      this.calls.push({ ...input, t: input.t.slice(), pos: input.pos.slice(), vel: input.vel.slice(), lattice: input.lattice.slice() });
    }
    const l = new Float32Array(input.lattice.length);
    for (let j = 0; j < l.length; j++) {
      const t = input.t[Math.floor(j / 6)]!;
      const a = vpAlpha(t);
      const s2 = vpSigma(t) ** 2;
      const score = -(input.lattice[j]! - a * this.m) / (a * a * this.v * this.v + s2);
      // the head output that reproduces `score` under §4's x0 or eps score formula
      l[j] = this.parameterisation === 'x0' ? (input.lattice[j]! + s2 * score) / a : -Math.sqrt(s2) * score;
    }
    return { v: new Float32Array(input.pos.length), l };
  }
}



/**
 * Oracle velocity head for a point-mass target x_0 (one fixed structure per crystal, any translation):
 * align x to x_0 by the per-component circular mean of x − x_0, then output the simplified target of
 * §3.4 for that alignment, o = centre(G(wrap(x − x_0 − c); wrap(κu), σ_r)) / sqrt(λ) — i.e. the exact
 * conditional velocity score of the forward kernel given x_0 (§3.2-3.3). Lattice head 0.
 */
export class PointMassOracle implements ScoreNetwork {
  constructor(private readonly x0: Float64Array, private readonly enabled = true) {}
  predict(inp: NetInput): NetOutput {
    const L = inp.layout;
    const g = new Float64Array(inp.pos.length);
    for (let c = 0; c < L.numCrystals && this.enabled; c++) {
      const k = tdmCoefficients(inp.t[c]!);
      for (let d = 0; d < 3; d++) {
        let sn = 0;
        let cs = 0;
        for (let i = L.atomOffsets[c]!; i < L.atomOffsets[c + 1]!; i++) {
          const a = TWO_PI * inp.pos[i * 3 + d]! - this.x0[i * 3 + d]!;
          sn += Math.sin(a);
          cs += Math.cos(a);
        }
        const shift = Math.atan2(sn, cs);
        for (let i = L.atomOffsets[c]!; i < L.atomOffsets[c + 1]!; i++) {
          const j = i * 3 + d;
          const r = wrap2pi(TWO_PI * inp.pos[j]! - this.x0[j]! - shift);
          g[j] = wrappedNormalG(r, wrap2pi(k.kappa * TWO_PI * inp.vel[j]!), k.sigmaR);
        }
      }
    }
    centreInPlace(g, L);
    const o = new Float32Array(g.length);
    for (let c = 0; c < L.numCrystals; c++) {
      const sl = Math.sqrt(scoreNormAt(inp.t[c]!));
      for (let j = L.atomOffsets[c]! * 3; j < L.atomOffsets[c + 1]! * 3; j++) o[j] = g[j]! / sl;
    }
    return { v: o, l: new Float32Array(inp.lattice.length) };
  }
}

/** Largest error of the atoms' positions relative to atom 0, against x_0 (radians), per crystal. */
export function relativeErrors(layout: BatchLayout, pos: Float32Array, x0: Float64Array): number[] {
  const errs: number[] = [];
  for (let c = 0; c < layout.numCrystals; c++) {
    const a0 = layout.atomOffsets[c]!;
    let maxErr = 0;
    for (let i = a0 + 1; i < layout.atomOffsets[c + 1]!; i++)
      for (let d = 0; d < 3; d++) {
        const e = wrap2pi(TWO_PI * (pos[i * 3 + d]! - pos[a0 * 3 + d]!) - (x0[i * 3 + d]! - x0[a0 * 3 + d]!));
        maxErr = Math.max(maxErr, Math.abs(e));
      }
    errs.push(maxErr);
  }
  return errs;
}

