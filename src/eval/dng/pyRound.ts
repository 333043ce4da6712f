/**
 * Python's `round(x, 3)` for floats: the exact binary value rounded to the nearest multiple of 10⁻³,
 * exact ties to even. `Number.prototype.toFixed` rounds the exact value too but sends ties up; an
 * exact tie at 3 decimals is an odd multiple of 1/16 (k/1000 + 1/2000 is a binary fraction only then),
 * so only those values need the half-even rule. CrystalNN's shells depend on these rounded weights.
 */
export function pyRound3(x: number): number {
  if (!Number.isFinite(x)) return x;
  const sixteenths = x * 16; // exact: a power-of-two scaling
  if (Number.isInteger(sixteenths) && Math.abs(sixteenths) % 2 === 1) {
    const lo = Math.floor(x * 1000);
    const even = lo % 2 === 0 ? lo : lo + 1;
    return even / 1000;
  }
  return Number.parseFloat(x.toFixed(3));
}

/** `round(x, digits)`; only 3 digits are needed (and implemented). */
export function pyRound(x: number, digits: 3): number {
  if (digits !== 3) throw new Error('pyRound: only 3 digits are implemented');
  return pyRound3(x);
}
