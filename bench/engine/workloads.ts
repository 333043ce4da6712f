/**
 * Benchmark workloads of issue #3: Perov-5 (256 crystals of 5 atoms) and an
 * MP-20-like batch (256 crystals with atom counts drawn from the MP-20 training
 * distribution, bench/engine/num_atoms_distribution.json, a copy of the spec's
 * kldm_constants.json numbers). Batches are random but seeded, so kldm and the
 * PyTorch peer see the same atom counts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/util/rng.js';
import { makeLayout, type NetInput } from '../../src/network/types.js';

export type WorkloadName = 'perov5' | 'mp20';

const here = dirname(fileURLToPath(import.meta.url));

export function atomCounts(name: WorkloadName, crystals: number, seed = 1234): number[] {
  if (name === 'perov5') return new Array<number>(crystals).fill(5);
  const dist = (JSON.parse(readFileSync(join(here, 'num_atoms_distribution.json'), 'utf8')) as { mp_20: number[] }).mp_20;
  const rng = new Rng(seed);
  const out: number[] = [];
  for (let g = 0; g < crystals; g++) {
    let u = rng.uniform();
    let n = dist.length - 1;
    for (let k = 0; k < dist.length; k++) {
      u -= dist[k]!;
      if (u < 0) {
        n = k;
        break;
      }
    }
    out.push(n);
  }
  return out;
}

/** A random network input for the given atom counts (values in the spec's ranges). */
export function randomInput(counts: number[], seed = 99): NetInput {
  const rng = new Rng(seed);
  const layout = makeLayout(counts);
  const N = layout.numAtoms;
  const G = layout.numCrystals;
  const f = (n: number, gen: () => number): Float32Array => Float32Array.from({ length: n }, gen);
  return {
    layout,
    t: f(G, () => 0.001 + 0.999 * rng.uniform()),
    pos: f(3 * N, () => rng.uniform() - 0.5),
    vel: f(3 * N, () => rng.normal()),
    types: Int32Array.from({ length: N }, () => 1 + rng.int(94)),
    lattice: f(6 * G, () => rng.normal()),
  };
}
