/** Shared parsing of command-line option values (each command parses its flags with node:util parseArgs). */
import { InputError } from '../util/errors.js';

/** A non-negative integer option >= min; undefined when the flag was not given. */
export function intOption(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  // Digits only: rejects "1e3", "-2", "3.5" and "" with a message naming the flag.
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new InputError(`${flag} must be an integer >= ${min}, got "${raw}"`);
  return Number(raw);
}

/** As intOption, with a default for a missing flag. */
export function intOptionOr(flag: string, raw: string | undefined, min: number, def: number): number {
  return intOption(flag, raw, min) ?? def;
}
