/**
 * Denoising trajectories as multi-frame extended XYZ (ASE / OVITO readable): one frame per
 * recorded state, Cartesian positions in Å, and the TDM velocities (spec §3: network-scale
 * v = u/2π, fractional units per unit of internal time s) converted to Cartesian Å per unit s,
 * stored as the per-atom property `vel`. The comment line carries the network time t. De-novo
 * frames carry their own species (the types change along the trajectory; 'X' = masked).
 */
import { fracToCart } from '../crystal/lattice.js';
import type { TrajectoryFrame } from './types.js';

export function trajectoryToExtxyz(species: readonly string[], frames: readonly TrajectoryFrame[], sample = 0): string {
  let out = '';
  for (const fr of frames) {
    const cart = fracToCart(fr.lattice, fr.frac);
    const vel = fracToCart(fr.lattice, fr.vel);
    const lattice = fr.lattice.map((v) => v.toFixed(8)).join(' ');
    out += `${species.length}\nLattice="${lattice}" Properties=species:S:1:pos:R:3:vel:R:3 pbc="T T T" time=${fr.t.toFixed(6)} sample=${sample}\n`;
    for (let i = 0; i < species.length; i++) {
      const p = [cart[3 * i]!, cart[3 * i + 1]!, cart[3 * i + 2]!, vel[3 * i]!, vel[3 * i + 1]!, vel[3 * i + 2]!];
      out += `${(fr.species?.[i] ?? species[i]!).padEnd(2)} ${p.map((x) => x.toFixed(8).padStart(14)).join(' ')}\n`;
    }
  }
  return out;
}
