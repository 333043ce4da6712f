/**
 * Structure file formats by name or file extension: CIF, POSCAR, extended XYZ, JSON.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Structure } from '../types.js';
import { InputError } from '../../util/errors.js';
import { makeStructure } from '../structure.js';
import { readCif, writeCif } from './cif.js';
import { readPoscar, writePoscar } from './poscar.js';
import { readJson, writeJson } from './json.js';
import { writeExtxyz } from './xyz.js';

export type StructureFormat = 'cif' | 'poscar' | 'extxyz' | 'json';
export const STRUCTURE_FORMATS: readonly StructureFormat[] = ['cif', 'poscar', 'extxyz', 'json'];

/** Format from a file name: *.cif, POSCAR/CONTCAR/*.vasp/*.poscar, *.xyz/*.extxyz, *.json. */
export function formatFromPath(path: string): StructureFormat {
  const ext = extname(path).toLowerCase();
  const base = basename(path).toUpperCase();
  if (ext === '.cif') return 'cif';
  if (ext === '.vasp' || ext === '.poscar' || base.startsWith('POSCAR') || base.startsWith('CONTCAR')) return 'poscar';
  if (ext === '.xyz' || ext === '.extxyz') return 'extxyz';
  if (ext === '.json') return 'json';
  throw new InputError(`${path}: cannot tell the structure format from the name (use .cif, .vasp/POSCAR, .xyz or .json)`);
}

export function parseStructure(text: string, format: StructureFormat, source: string): Structure {
  switch (format) {
    case 'cif': {
      const s = readCif(text, { source });
      return makeStructure(s.lattice, s.species, s.frac, source);
    }
    case 'poscar': {
      const s = readPoscar(text, source);
      return makeStructure(s.lattice, s.species, s.frac, source);
    }
    case 'json':
      return readJson(text, source);
    case 'extxyz':
      throw new InputError(`${source}: reading extended XYZ is not supported (use CIF, POSCAR or JSON)`);
  }
}

export function readStructureFile(path: string, format?: StructureFormat): Structure {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseStructure(text, format ?? formatFromPath(path), path);
}

export function formatStructure(s: Structure, format: StructureFormat, name?: string): string {
  switch (format) {
    case 'cif':
      return writeCif(s, name);
    case 'poscar':
      return writePoscar(s, name);
    case 'extxyz':
      return writeExtxyz(s, name);
    case 'json':
      return writeJson(s);
  }
}

export { readCif, writeCif, parseCifBlocks, parseSymmetryOperation, MAX_CIF_SITES, MAX_CIF_IMAGES } from './cif.js';
export { readPoscar, writePoscar } from './poscar.js';
export { readJson, writeJson, structureToJson } from './json.js';
export { writeExtxyz } from './xyz.js';
