/**
 * The reference hull of kldm's stability metrics: MP-20's own DFT formation energies (Materials
 * Project, MP2020-corrected, as stored in the CDVAE/DiffCSP CSVs), from every installed split that
 * has them. The MP-20 train reconstruction lacks the formation energy or the formula of some rows
 * (docs/data.md); those rows are skipped and counted.
 */
import { readSplitColumns } from '../data/source.js';
import { parseFormula } from '../crystal/composition.js';
import type { HullEntry } from './hull.js';

export function compositionOf(formula: string): Record<string, number> {
  const c = parseFormula(formula, { maxAtoms: 100_000 });
  const out: Record<string, number> = {};
  c.elements.forEach((el, i) => (out[el] = (out[el] ?? 0) + c.counts[i]!));
  return out;
}

export function mp20HullEntries(splits: readonly string[] = ['train', 'val', 'test']): { entries: HullEntry[]; skipped: number } {
  const entries: HullEntry[] = [];
  let skipped = 0;
  for (const split of splits) {
    const cols = readSplitColumns('mp_20', split, ['material_id', 'pretty_formula', 'formation_energy_per_atom']);
    cols['material_id']!.forEach((id, k) => {
      const f = cols['pretty_formula']![k]!.trim();
      const e = cols['formation_energy_per_atom']![k]!.trim();
      if (f === '' || e === '' || !Number.isFinite(Number(e))) {
        skipped++;
        return;
      }
      entries.push({ id, composition: compositionOf(f), energyPerAtom: Number(e) });
    });
  }
  return { entries, skipped };
}
