/**
 * POSCAR, extended XYZ and structure JSON: the readers (src/crystal/io/poscar.ts, json.ts, and
 * the refusal to read extXYZ) on generated and mutated files made from dataset structures, and
 * the writers (extXYZ, POSCAR, JSON) on arbitrary accepted structures with arbitrary titles.
 */
import fc from 'fast-check';
import { parseStructure, formatStructure, readCif, writePoscar, writeJson, writeExtxyz } from '../../crystal/io/index.js';
import { makeStructure } from '../../crystal/structure.js';
import type { Matrix3, Structure } from '../../crystal/types.js';
import { structureToJson as apiStructureToJson } from '../../server/structure-json.js';
import { datasetCifs } from '../corpus.js';
import { FuzzViolation, type FuzzTarget } from '../harness.js';
import { INTERESTING_NUMBERS, mutatedText } from '../mutate.js';
import { checkAccepted } from './cif.js';

let structures: Structure[] = [];
function datasetStructures(): Structure[] {
  if (structures.length === 0) structures = datasetCifs().map((r) => readCif(r.cif));
  return structures;
}

const POSCAR_TOKENS = ['Direct', 'Cartesian', 'Selective dynamics', 'Fe_pv', 'Xx', '-1', '0', '1e9', '999999999', '\n', '\r\n', ' ', 'T T F', '#'];

const poscarGenerated: fc.Arbitrary<string> = fc
  .record({
    comment: fc.string({ maxLength: 20 }),
    scale: fc.oneof(fc.constantFrom('1.0', '-27', '0', '-0', 'NaN'), fc.double().map(String)),
    rows: fc.array(fc.array(fc.oneof(fc.double({ min: -20, max: 20, noNaN: true }).map(String), fc.constantFrom(...INTERESTING_NUMBERS)), { minLength: 2, maxLength: 4 }), { minLength: 2, maxLength: 4 }),
    species: fc.array(fc.constantFrom('Sr', 'Ti', 'O', 'Xx', 'Fe_pv', '3', ''), { minLength: 0, maxLength: 4 }),
    counts: fc.array(fc.oneof(fc.nat({ max: 6 }).map(String), fc.constantFrom('-1', '1.5', '1e9', '4294967296', 'a')), { minLength: 0, maxLength: 4 }),
    selective: fc.boolean(),
    mode: fc.constantFrom('Direct', 'Cartesian', 'k', 'x', ''),
    coords: fc.array(fc.array(fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }).map(String), fc.constantFrom(...INTERESTING_NUMBERS)), { minLength: 2, maxLength: 4 }), { maxLength: 10 }),
  })
  .map((g) => [g.comment, g.scale, ...g.rows.map((r) => r.join(' ')), g.species.join(' '), g.counts.join(' '), ...(g.selective ? ['Selective dynamics'] : []), g.mode, ...g.coords.map((c) => c.join(' '))].join('\n'));

export const poscarTarget: FuzzTarget<string> = {
  name: 'poscar',
  description: 'readPoscar (src/crystal/io/poscar.ts, through parseStructure) on generated POSCARs and mutated POSCARs of dataset structures',
  setup: () => void datasetStructures(),
  arbitrary: () => {
    const corpus = datasetStructures().slice(0, 150).map((s, i) => {
      const text = writePoscar(s);
      if (i % 3 !== 0) return text;
      // a Cartesian variant
      const lines = text.split('\n');
      lines[7] = 'Cartesian';
      return lines.join('\n');
    });
    return fc.oneof({ weight: 3, arbitrary: mutatedText(corpus, POSCAR_TOKENS) }, { weight: 2, arbitrary: poscarGenerated }, fc.string({ maxLength: 200, unit: 'binary' }));
  },
  run(text) {
    checkAccepted(parseStructure(text, 'poscar', 'POSCAR'), 'readPoscar');
  },
  show: (t) => JSON.stringify(t),
};

const JSON_TOKENS = ['null', '[]', '{}', '"sites":', '"abc":', '"species":', '"element":', '"occu":', '"lattice":', '"matrix":', '"frac":', 'true', '1e999', '-0', '"Xx"', ',', ':', '[', ']', '{', '}', '"'];

/** JSON of any shape with the keys a structure has, so type confusion reaches deep into the reader */
const confusedJson: fc.Arbitrary<string> = fc
  .letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, true, 0, -1, 1e308, 'Sr', 'Xx', '', [], {}),
      fc.double(),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom('lattice', 'matrix', 'sites', 'species', 'element', 'occu', 'abc', 'frac', 'xyz', 'label', '__proto__', 'constructor'), tie('value'), { maxKeys: 4 }),
    ),
  }))
  .value.map((v) => JSON.stringify(v) ?? 'null');

export const structureJsonTarget: FuzzTarget<string> = {
  name: 'structure-json',
  description: 'readJson (src/crystal/io/json.ts: pymatgen and kldm layouts) on type-confused and mutated JSON of dataset structures',
  setup: () => void datasetStructures(),
  arbitrary: () => {
    const corpus = datasetStructures().slice(0, 150).flatMap((s) => [writeJson(s), JSON.stringify(apiStructureToJson(s))]);
    return fc.oneof({ weight: 3, arbitrary: mutatedText(corpus, JSON_TOKENS) }, { weight: 3, arbitrary: confusedJson }, fc.json(), fc.string({ maxLength: 100, unit: 'binary' }));
  },
  run(text) {
    checkAccepted(parseStructure(text, 'json', 'structure.json'), 'readJson');
  },
  show: (t) => JSON.stringify(t),
};

/** Structures that makeStructure accepts, with odd but finite values, and a free-text title. */
const anyStructure = fc
  .record({
    // cells a text format can carry: entries 0 or 1e-3 <= |x| <= 1e6, not nearly singular (POSCAR keeps 16 decimals)
    lattice: fc
      .array(fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: -1e-3, noNaN: true })), { minLength: 9, maxLength: 9 })
      .filter((L) => {
        const det = L[0]! * (L[4]! * L[8]! - L[5]! * L[7]!) - L[1]! * (L[3]! * L[8]! - L[5]! * L[6]!) + L[2]! * (L[3]! * L[7]! - L[4]! * L[6]!);
        const norms = [0, 3, 6].map((k) => Math.hypot(L[k]!, L[k + 1]!, L[k + 2]!));
        return Math.abs(det) > 1e-3 * norms[0]! * norms[1]! * norms[2]!;
      }),
    species: fc.array(fc.constantFrom('H', 'O', 'Sr', 'Og', 'U'), { minLength: 1, maxLength: 8 }),
    frac: fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 24, maxLength: 24 }),
    title: fc.string({ maxLength: 30, unit: 'binary' }),
  });

export const extxyzTarget: FuzzTarget<{ lattice: number[]; species: string[]; frac: number[]; title: string } | { text: string }> = {
  name: 'extxyz',
  description: 'extended XYZ: writeExtxyz (and the POSCAR/CIF/JSON writers) on arbitrary structures and titles, checked line by line; reading extXYZ is refused cleanly',
  arbitrary: () => fc.oneof({ weight: 4, arbitrary: anyStructure }, fc.record({ text: fc.string({ maxLength: 100, unit: 'binary' }) })),
  run(input) {
    if ('text' in input) {
      parseStructure(input.text, 'extxyz', 'x.extxyz');
      throw new FuzzViolation('reading extXYZ is not supported, yet it was accepted');
    }
    const s = makeStructure(input.lattice as Matrix3, input.species, input.frac.slice(0, 3 * input.species.length), 'generated');
    const xyz = writeExtxyz(s, input.title);
    const lines = xyz.split('\n');
    if (lines.length !== s.species.length + 3 || lines[lines.length - 1] !== '') throw new FuzzViolation(`extXYZ has ${lines.length} lines for ${s.species.length} atoms (a newline leaked from the title?)`);
    if (Number(lines[0]) !== s.species.length) throw new FuzzViolation('extXYZ atom count line');
    const lat = /Lattice="([^"]*)"/.exec(lines[1]!);
    if (!lat || lat[1]!.split(' ').length !== 9 || !lat[1]!.split(' ').every((v) => Number.isFinite(Number(v)))) throw new FuzzViolation(`extXYZ comment line: ${lines[1]}`);
    if ((lines[1]!.match(/"/g) ?? []).length % 2 !== 0) throw new FuzzViolation(`extXYZ comment line has unbalanced quotes: ${lines[1]}`);
    for (let i = 0; i < s.species.length; i++) {
      const parts = lines[i + 2]!.trim().split(/\s+/);
      if (parts.length !== 4 || parts[0] !== s.species[i] || !parts.slice(1).every((v) => Number.isFinite(Number(v)))) throw new FuzzViolation(`extXYZ atom line ${i + 1}: ${lines[i + 2]}`);
    }
    // the other writers on the same structure must produce files the readers take back
    if (/\r/.test(xyz)) throw new FuzzViolation('extXYZ contains a carriage return (from the title?)');
    // POSCAR and JSON must read back what they wrote, whatever the title (CIF may refuse a cell too flat for its parameters)
    for (const format of ['poscar', 'json', 'cif'] as const) {
      const text = formatStructure(s, format, input.title);
      let back: Structure;
      try {
        back = parseStructure(text, format, `round trip ${format}`);
      } catch (err) {
        if (format === 'cif') throw err;
        throw new FuzzViolation(`${format} writer output is not read back: ${(err as Error).message}`);
      }
      // (CIF merges atoms of one element on one position, as pymatgen does: only POSCAR and JSON must keep every atom)
      if (format !== 'cif' && back.species.join() !== s.species.join()) throw new FuzzViolation(`${format} round trip: species ${back.species.join()} read, ${s.species.join()} written`);
    }
  },
};
