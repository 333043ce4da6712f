/**
 * Extended XYZ writing (ASE / OVITO convention): Cartesian positions in Å,
 * the lattice in the comment line. Written by hand because ferrox only writes
 * molecules (no lattice) in XYZ.
 */
import type { Structure } from '../types.js';
import { fracToCart } from '../lattice.js';

export function writeExtxyz(s: Structure, comment = ''): string {
  const L = s.lattice;
  const cart = fracToCart(L, s.frac);
  const lattice = L.map((v) => v.toFixed(10)).join(' ');
  const extra = comment ? ` comment="${comment.replace(/["\r\n]/g, ' ')}"` : '';
  const lines = [String(s.species.length), `Lattice="${lattice}" Properties=species:S:1:pos:R:3 pbc="T T T"${extra}`];
  for (let i = 0; i < s.species.length; i++) {
    lines.push(`${s.species[i]!.padEnd(2)} ${cart[3 * i]!.toFixed(10).padStart(16)} ${cart[3 * i + 1]!.toFixed(10).padStart(16)} ${cart[3 * i + 2]!.toFixed(10).padStart(16)}`);
  }
  return lines.join('\n') + '\n';
}
