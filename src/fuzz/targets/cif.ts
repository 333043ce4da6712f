/**
 * CIF: both readers (src/crystal/io/cif.ts readCif through parseStructure, and the evaluation's
 * src/eval/cifReader.ts readCifForMatching) on generated CIFs (cells, symmetry operations,
 * space-group names, atom-site loops with odd values) and on mutated dataset CIFs.
 */
import fc from 'fast-check';
import { parseStructure } from '../../crystal/io/index.js';
import { readCifForMatching } from '../../eval/cifReader.js';
import type { Structure } from '../../crystal/types.js';
import { datasetCifs } from '../corpus.js';
import { FuzzViolation, type FuzzTarget } from '../harness.js';
import { INTERESTING_NUMBERS, mutatedText } from '../mutate.js';

export const CIF_TOKENS = [
  'loop_', 'data_', 'data_x\n', '_atom_site_fract_x', '_atom_site_type_symbol', '_atom_site_occupancy', '_cell_length_a', '_cell_angle_beta',
  '_symmetry_equiv_pos_as_xyz', "'x, y, z'", "'-x+1/2, y, -z'", '"', "'", '\n;\n', '\n;', ';', '#', '?', '.', ' ', '\n', '\r', '\t', 'global_', 'save_',
  "_symmetry_space_group_name_H-M 'F m -3 m'", '_symmetry_Int_Tables_number 230', '_space_group_IT_number 999', 'Xx', 'D', 'O2-', 'Fe3+',
];

const num = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -2, max: 200, noNaN: true }).map((v) => v.toFixed(6)) },
  fc.constantFrom(...INTERESTING_NUMBERS),
  fc.double().map(String),
);
const frac = fc.oneof({ weight: 4, arbitrary: fc.double({ min: -1.5, max: 1.5, noNaN: true }).map((v) => v.toFixed(6)) }, fc.constantFrom(...INTERESTING_NUMBERS));
const element = fc.oneof({ weight: 5, arbitrary: fc.constantFrom('Sr', 'Ti', 'O', 'Ba', 'Fe', 'Li', 'Co', 'H', 'N', 'Cl') }, fc.constantFrom('Xx', 'D', 'O2-', 'Fe3+', '?', '.', '1', 'OW', 'q', "'Sr'", '"'));
const symop = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('x, y, z', '-x, -y, -z', 'y, x, -z', '-x+1/2, y+1/2, -z', 'x+1/3, y+2/3, z+2/3', 'z, x, y') },
  fc.array(fc.constantFrom('x', 'y', 'z', '-x', '+y', '1/2', '1/0', '0.25', '2x', 'x*', '999999999999999999999x', ',', '', ' '), { maxLength: 8 }).map((p) => p.join('')),
);
const spaceGroup = fc.constantFrom('', "_symmetry_space_group_name_H-M 'P 1'", "_symmetry_space_group_name_H-M 'F m -3 m'", "_symmetry_space_group_name_H-M 'R -3 m'",
  "_symmetry_space_group_name_H-M 'P 63/m m c'", "_symmetry_space_group_name_H-M 'Q 9'", '_symmetry_Int_Tables_number 225', '_symmetry_Int_Tables_number 0', '_space_group_IT_number 231', '_space_group_IT_number 1e9');

/** CIF text assembled from generated parts; some parts are left out or repeated on purpose. */
export const generatedCif: fc.Arbitrary<string> = fc
  .record({
    name: fc.constantFrom('gen', '', 'a b'),
    cell: fc.array(fc.tuple(fc.constantFrom('_cell_length_a', '_cell_length_b', '_cell_length_c', '_cell_angle_alpha', '_cell_angle_beta', '_cell_angle_gamma'), num), { minLength: 0, maxLength: 8 }),
    fullCell: fc.boolean(),
    a: fc.double({ min: 1, max: 30, noNaN: true }),
    angle: fc.double({ min: 30, max: 150, noNaN: true }),
    group: spaceGroup,
    ops: fc.option(fc.array(symop, { minLength: 0, maxLength: 6 }), { nil: null }),
    tags: fc.shuffledSubarray(['_atom_site_type_symbol', '_atom_site_label', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z', '_atom_site_occupancy'], { minLength: 1 }),
    rows: fc.array(fc.record({ el: element, x: frac, y: frac, z: frac, occ: fc.oneof({ weight: 5, arbitrary: fc.constant('1') }, fc.constantFrom('0.5', '0', '-1', '1.000001', '?', '.', '1e400')) }), { minLength: 0, maxLength: 12 }),
    dropValues: fc.nat({ max: 3 }),
  })
  .map((g) => {
    const lines = [`data_${g.name}`];
    if (g.fullCell) {
      lines.push(`_cell_length_a ${g.a}`, `_cell_length_b ${g.a * 1.1}`, `_cell_length_c ${g.a * 0.9}`, `_cell_angle_alpha ${g.angle}`, '_cell_angle_beta 90', '_cell_angle_gamma 90');
    }
    for (const [tag, v] of g.cell) lines.push(`${tag} ${v}`);
    if (g.group) lines.push(g.group);
    if (g.ops) {
      lines.push('loop_', '_symmetry_equiv_pos_site_id', '_symmetry_equiv_pos_as_xyz');
      g.ops.forEach((op, i) => lines.push(`${i + 1} '${op}'`));
    }
    lines.push('loop_', ...g.tags);
    const values: string[] = [];
    for (const r of g.rows) {
      for (const t of g.tags) {
        if (t === '_atom_site_type_symbol' || t === '_atom_site_label') values.push(r.el);
        else if (t === '_atom_site_fract_x') values.push(r.x);
        else if (t === '_atom_site_fract_y') values.push(r.y);
        else if (t === '_atom_site_fract_z') values.push(r.z);
        else values.push(r.occ);
      }
    }
    lines.push(values.slice(0, Math.max(0, values.length - g.dropValues)).join(' '));
    return lines.join('\n') + '\n';
  });

/** A big but valid-looking CIF: many sites and symmetry operations (bounded work per case). */
const bigCif: fc.Arbitrary<string> = fc.record({ sites: fc.integer({ min: 100, max: 3000 }), ops: fc.integer({ min: 1, max: 192 }), seed: fc.nat() }).map(({ sites, ops, seed }) => {
  const lines = ['data_big', '_cell_length_a 40', '_cell_length_b 40', '_cell_length_c 40', '_cell_angle_alpha 90', '_cell_angle_beta 90', '_cell_angle_gamma 90', 'loop_', '_symmetry_equiv_pos_as_xyz'];
  for (let k = 0; k < ops; k++) lines.push(`'x+${k}/${ops}, y, z'`);
  lines.push('loop_', '_atom_site_type_symbol', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z');
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < sites; i++) lines.push(`O ${rnd().toFixed(5)} ${rnd().toFixed(5)} ${rnd().toFixed(5)}`);
  return lines.join('\n') + '\n';
});

export function cifInputs(): fc.Arbitrary<string> {
  const corpus = datasetCifs().map((r) => r.cif);
  return fc.oneof(
    { weight: 6, arbitrary: mutatedText(corpus, CIF_TOKENS) },
    { weight: 4, arbitrary: generatedCif },
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.constantFrom(...corpus) },
    { weight: 1, arbitrary: bigCif },
  );
}

/** An accepted structure must be usable: finite lattice and coordinates, known species, sizes consistent. */
export function checkAccepted(s: Structure, what: string): void {
  if (s.lattice.length !== 9 || !s.lattice.every(Number.isFinite)) throw new FuzzViolation(`${what}: accepted a non-finite lattice ${s.lattice}`);
  if (s.frac.length !== 3 * s.species.length) throw new FuzzViolation(`${what}: ${s.species.length} species, ${s.frac.length} coordinates`);
  for (let i = 0; i < s.frac.length; i++) if (!Number.isFinite(s.frac[i]!)) throw new FuzzViolation(`${what}: accepted a non-finite coordinate`);
  if (s.species.length === 0) throw new FuzzViolation(`${what}: accepted a structure with no atoms`);
}

export const cifTarget: FuzzTarget<string> = {
  name: 'cif',
  description: 'readCif (src/crystal/io/cif.ts, through parseStructure) on generated and mutated dataset CIFs',
  setup: () => void datasetCifs(),
  arbitrary: cifInputs,
  run(text) {
    checkAccepted(parseStructure(text, 'cif', 'fuzz.cif'), 'readCif');
  },
  show: (t) => JSON.stringify(t),
};

export const cifEvalTarget: FuzzTarget<string> = {
  name: 'cif-eval',
  description: 'readCifForMatching (src/eval/cifReader.ts) on generated and mutated dataset CIFs',
  setup: () => void datasetCifs(),
  arbitrary: cifInputs,
  run(text) {
    const s = readCifForMatching(text, 'fuzz.cif');
    checkAccepted(s, 'readCifForMatching');
    for (let i = 0; i < s.frac.length; i++) if (s.frac[i]! < 0 || s.frac[i]! >= 1) throw new FuzzViolation(`coordinate ${s.frac[i]} not wrapped into [0, 1)`);
  },
  show: (t) => JSON.stringify(t),
};
