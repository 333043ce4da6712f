/**
 * FIRE, the Fast Inertial Relaxation Engine (Bitzek, Koskinen, Gähler, Moseler & Gumbsch,
 * Phys. Rev. Lett. 97, 170201 (2006)), on a flat coordinate vector with unit masses. The
 * parameters and the two places where codes differ follow ASE's FIRE, the de-facto reference
 * of the matgl/MatterGen relaxations we compare with: the velocity mixing and the dt/α updates
 * happen before the MD step, the first step starts from rest, and the whole displacement vector
 * is scaled down to at most `maxStep` (Å in Cartesian or generalised coordinates).
 */
export interface FireOptions {
  dt?: number;
  dtMax?: number;
  maxStep?: number;
  nMin?: number;
  fInc?: number;
  fDec?: number;
  aStart?: number;
  fA?: number;
}

export const FIRE_DEFAULTS: Required<FireOptions> = { dt: 0.1, dtMax: 1.0, maxStep: 0.2, nMin: 5, fInc: 1.1, fDec: 0.5, aStart: 0.1, fA: 0.99 };

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export class Fire {
  private readonly o: Required<FireOptions>;
  private v: Float64Array | null = null;
  private dt: number;
  private a: number;
  private nPositive = 0;

  constructor(options: FireOptions = {}) {
    this.o = { ...FIRE_DEFAULTS, ...options };
    this.dt = this.o.dt;
    this.a = this.o.aStart;
  }

  /** One FIRE step: moves x (in place) given the forces f at x. */
  step(x: Float64Array, f: Float64Array): void {
    if (this.v === null) {
      this.v = new Float64Array(x.length);
    } else {
      const v = this.v;
      const power = dot(f, v);
      if (power > 0) {
        // steer the velocity towards the force, keeping its magnitude
        const scale = (this.a * Math.sqrt(dot(v, v))) / Math.sqrt(dot(f, f));
        for (let i = 0; i < v.length; i++) v[i] = (1 - this.a) * v[i]! + scale * f[i]!;
        if (this.nPositive > this.o.nMin) {
          this.dt = Math.min(this.dt * this.o.fInc, this.o.dtMax);
          this.a *= this.o.fA;
        }
        this.nPositive++;
      } else {
        // going uphill: stop, and restart carefully
        v.fill(0);
        this.a = this.o.aStart;
        this.dt *= this.o.fDec;
        this.nPositive = 0;
      }
    }
    const v = this.v;
    for (let i = 0; i < v.length; i++) v[i]! += this.dt * f[i]!;
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += (this.dt * v[i]!) ** 2;
    norm = Math.sqrt(norm);
    const shrink = norm > this.o.maxStep ? this.o.maxStep / norm : 1;
    for (let i = 0; i < x.length; i++) x[i]! += shrink * this.dt * v[i]!;
  }
}
