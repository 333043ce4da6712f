/**
 * One crystal as the DNG evaluation sees it (DiffCSP `Crystal`, spec §10.1): validity in the three
 * senses and the quantities the metrics need. DiffCSP fingerprints every structure it could build (valid
 * or not) and marks a structure whose CrystalNN fingerprint raises as invalid; this does the same.
 */
import type { Structure } from '../../crystal/types.js';
import { compositionValidity, structuralValidity } from '../validity.js';
import { structureOpsFingerprint } from './crystalNNFingerprint.js';
import { magpieFingerprint, standardiseMagpie, type MagpieTables } from './magpie.js';
import { densityGcm3, distinctElements } from './structureStats.js';
import type { Fingerprints } from './coverage.js';

export interface CrystalRecord {
  compValid: boolean;
  structValid: boolean;
  /** struct ∧ comp ∧ fingerprint computed */
  valid: boolean;
  /** why invalid (first reason), absent when valid */
  reason?: string;
  fingerprints: Fingerprints | null;
  density: number;
  nElements: number;
}

export function evaluateCrystal(s: Structure, magpie: MagpieTables): CrystalRecord {
  const comp = compositionValidity(s.species);
  const struct = structuralValidity(s, null);
  let fingerprints: Fingerprints | null = null;
  let fpError: string | undefined;
  try {
    fingerprints = { struct: structureOpsFingerprint(s), comp: standardiseMagpie(magpieFingerprint(magpie, s.species)) };
  } catch (err) {
    fpError = `fingerprint failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  const valid = comp.valid && struct.valid && fingerprints !== null;
  const rec: CrystalRecord = {
    compValid: comp.valid,
    structValid: struct.valid,
    valid,
    fingerprints,
    density: densityGcm3(s),
    nElements: distinctElements(s),
  };
  const reason = !struct.valid ? struct.reason : !comp.valid ? comp.reason : fpError;
  if (!valid && reason !== undefined) rec.reason = reason;
  return rec;
}
