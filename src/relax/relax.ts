/**
 * Relaxation of many crystals at once (issue #15): FIRE (fire.ts) on positions and cell together
 * through the exponential cell filter (cellFilter.ts), or on positions only. Every optimiser step
 * evaluates all structures that are still relaxing in ONE call of the batched potential. Converged
 * when the largest generalised force row (atoms and, with the cell, the cell's three rows) is below
 * fmax (eV/Å), as ASE's optimisers decide; a structure that reaches maxSteps is reported as not
 * converged, with its last state.
 */
import type { Structure } from '../crystal/types.js';
import { volume } from '../crystal/lattice.js';
import { InputError } from '../util/errors.js';
import { ExpCellFilter, maxRowNorm } from './cellFilter.js';
import { Fire, type FireOptions } from './fire.js';
import type { BatchPotential, PotentialEvaluation } from '../potential/types.js';

export interface RelaxOptions {
  /** force criterion, eV/Å (default 0.05) */
  fmax?: number;
  /** optimiser steps at most per structure (default 500) */
  maxSteps?: number;
  /** relax the cell too (default true) */
  relaxCell?: boolean;
  fire?: FireOptions;
  /** cell force of the exponential cell filter: 'ase' (default, ASE 3.22 ExpCellFilter) or 'exact' (cellFilter.ts) */
  cellForce?: 'ase' | 'exact';
  /** keep every step's structure, energy and forces */
  trajectory?: boolean;
  /** structures evaluated per potential call at most (default: all that are still relaxing) */
  batchSize?: number;
  onStep?: (info: { step: number; relaxing: number; converged: number }) => void;
  signal?: AbortSignal;
}

export interface RelaxFrame {
  structure: Structure;
  energy: number;
  forces: Float64Array;
  stress: Float64Array | null;
  /** largest generalised force row, eV/Å */
  fmax: number;
}

export interface RelaxResult {
  initial: Structure;
  final: Structure;
  converged: boolean;
  /** optimiser steps taken */
  steps: number;
  initialEnergy: number;
  energy: number;
  energyPerAtom: number;
  forces: Float64Array;
  stress: Float64Array | null;
  fmax: number;
  trajectory?: RelaxFrame[];
}

/** One relaxation of many structures, advanced one optimiser step (one potential call per group) at a time. */
class Relaxation {
  private readonly fmax: number;
  private readonly maxSteps: number;
  private readonly relaxCell: boolean;
  private readonly states;
  private iter = 0;

  constructor(structures: readonly Structure[], private readonly potential: BatchPotential, private readonly options: RelaxOptions) {
    this.fmax = options.fmax ?? 0.05;
    this.maxSteps = options.maxSteps ?? 500;
    this.relaxCell = options.relaxCell ?? true;
    if (!(this.fmax > 0)) throw new InputError(`fmax must be positive, got ${this.fmax}`);
    if (!Number.isInteger(this.maxSteps) || this.maxSteps < 0) throw new InputError(`maxSteps must be a non-negative integer, got ${this.maxSteps}`);
    this.states = structures.map((s) => ({
      initial: s,
      filter: new ExpCellFilter(s, { cellForce: options.cellForce ?? 'ase' }),
      fire: new Fire(options.fire),
      steps: 0,
      done: false,
      converged: false,
      initialEnergy: NaN,
      last: null as (RelaxFrame & { g: Float64Array }) | null,
      trajectory: options.trajectory ? ([] as RelaxFrame[]) : undefined,
    }));
  }

  /** evaluates every structure still relaxing and moves it one FIRE step; false when all are done */
  step(): boolean {
    const active = this.states.filter((s) => !s.done);
    if (active.length === 0) return false;
    if (this.options.signal?.aborted) throw new InputError('relaxation aborted');
    const batch = this.options.batchSize ?? Number.POSITIVE_INFINITY;
    for (let start = 0; start < active.length; start += batch) {
      const group = active.slice(start, start + batch);
      const current = group.map((s) => s.filter.structure());
      const evals: PotentialEvaluation[] = this.potential(current);
      for (let k = 0; k < group.length; k++) {
        const st = group[k]!;
        const ev = evals[k]!;
        const g = st.filter.generalisedForces(ev, volume(current[k]!.lattice), this.relaxCell);
        const frame = { structure: current[k]!, energy: ev.energy, forces: ev.forces, stress: ev.stress, fmax: maxRowNorm(g), g };
        if (Number.isNaN(st.initialEnergy)) st.initialEnergy = ev.energy;
        st.last = frame;
        st.trajectory?.push({ structure: frame.structure, energy: frame.energy, forces: frame.forces, stress: frame.stress, fmax: frame.fmax });
        if (!Number.isFinite(ev.energy)) {
          st.done = true; // a broken structure (atoms on top of each other) stops here, not converged
        } else if (frame.fmax < this.fmax) {
          st.done = true;
          st.converged = true;
        } else if (st.steps >= this.maxSteps) {
          st.done = true;
        } else {
          st.fire.step(st.filter.coords, g);
          st.steps++;
        }
      }
    }
    this.options.onStep?.({ step: this.iter++, relaxing: this.states.filter((s) => !s.done).length, converged: this.states.filter((s) => s.converged).length });
    return true;
  }

  results(): RelaxResult[] {
    return this.states.map((st) => {
      const last = st.last!;
      const r: RelaxResult = {
        initial: st.initial,
        final: last.structure,
        converged: st.converged,
        steps: st.steps,
        initialEnergy: st.initialEnergy,
        energy: last.energy,
        energyPerAtom: last.energy / st.initial.species.length,
        forces: last.forces,
        stress: last.stress,
        fmax: last.fmax,
      };
      if (st.trajectory) r.trajectory = st.trajectory;
      return r;
    });
  }
}

export function relaxStructures(structures: readonly Structure[], potential: BatchPotential, options: RelaxOptions = {}): RelaxResult[] {
  const run = new Relaxation(structures, potential, options);
  while (run.step());
  return run.results();
}

/**
 * As relaxStructures, yielding to the event loop after every optimiser step (same results): for
 * long relaxations inside servers and queue workers, whose timers (progress, lock renewal, signals)
 * must keep running.
 */
export async function relaxStructuresAsync(structures: readonly Structure[], potential: BatchPotential, options: RelaxOptions = {}): Promise<RelaxResult[]> {
  const run = new Relaxation(structures, potential, options);
  while (run.step()) await new Promise<void>((res) => setImmediate(res));
  return run.results();
}
