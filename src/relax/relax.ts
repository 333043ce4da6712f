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

export function relaxStructures(structures: readonly Structure[], potential: BatchPotential, options: RelaxOptions = {}): RelaxResult[] {
  const fmax = options.fmax ?? 0.05;
  const maxSteps = options.maxSteps ?? 500;
  const relaxCell = options.relaxCell ?? true;
  if (!(fmax > 0)) throw new InputError(`fmax must be positive, got ${fmax}`);
  if (!Number.isInteger(maxSteps) || maxSteps < 0) throw new InputError(`maxSteps must be a non-negative integer, got ${maxSteps}`);
  const states = structures.map((s) => ({
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
  const batch = options.batchSize ?? Number.POSITIVE_INFINITY;
  for (let iter = 0; ; iter++) {
    const active = states.filter((s) => !s.done);
    if (active.length === 0) break;
    if (options.signal?.aborted) throw new InputError('relaxation aborted');
    for (let start = 0; start < active.length; start += batch) {
      const group = active.slice(start, start + batch);
      const current = group.map((s) => s.filter.structure());
      const evals: PotentialEvaluation[] = potential(current);
      for (let k = 0; k < group.length; k++) {
        const st = group[k]!;
        const ev = evals[k]!;
        const g = st.filter.generalisedForces(ev, volume(current[k]!.lattice), relaxCell);
        const frame = { structure: current[k]!, energy: ev.energy, forces: ev.forces, stress: ev.stress, fmax: maxRowNorm(g), g };
        if (Number.isNaN(st.initialEnergy)) st.initialEnergy = ev.energy;
        st.last = frame;
        st.trajectory?.push({ structure: frame.structure, energy: frame.energy, forces: frame.forces, stress: frame.stress, fmax: frame.fmax });
        if (!Number.isFinite(ev.energy)) {
          st.done = true; // a broken structure (atoms on top of each other) stops here, not converged
        } else if (frame.fmax < fmax) {
          st.done = true;
          st.converged = true;
        } else if (st.steps >= maxSteps) {
          st.done = true;
        } else {
          st.fire.step(st.filter.coords, g);
          st.steps++;
        }
      }
    }
    options.onStep?.({ step: iter, relaxing: states.filter((s) => !s.done).length, converged: states.filter((s) => s.converged).length });
  }
  return states.map((st) => {
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
