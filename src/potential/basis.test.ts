/**
 * M3GNet basis functions against closed forms and tables: zeros of j_l (Abramowitz & Stegun
 * Table 10.6), derivatives against central differences, the radial basis' orthonormality
 * (integral of r^2 f_ln f_ln' over [0, r_c] = delta, by Simpson's rule), the harmonics'
 * normalisation and the envelope's value, slope and curvature at 0 and the cutoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SphericalBesselBasis, polynomialEnvelope, sphericalHarmonicsL0, sphericalJn, sphericalJnPrime, sphericalJnRoots } from './basis.js';

test('zeros of j_0, j_1, j_2 equal the tabulated values', () => {
  const want = [
    [Math.PI, 2 * Math.PI, 3 * Math.PI],
    [4.493409457909064, 7.725251836937707, 10.90412165942890],
    [5.763459196894550, 9.095011330476355, 12.32294097056658],
  ];
  const got = sphericalJnRoots(3, 3);
  for (let l = 0; l < 3; l++) for (let n = 0; n < 3; n++) assert.ok(Math.abs(got[l]![n]! - want[l]![n]!) < 1e-12, `z_${l}${n}`);
});

test('j_l closed forms match the series near 0 and the derivative matches central differences', () => {
  // power series (DLMF 10.53.1): j_l(x) = x^l sum_k (-x^2/2)^k / (k! (2l+2k+1)!!), summed to convergence
  const series = (l: number, x: number) => {
    let dfact = 1;
    for (let m = 3; m <= 2 * l + 1; m += 2) dfact *= m;
    let term = x ** l / dfact, sum = term;
    for (let k = 1; k < 30; k++) {
      term *= -(x * x) / 2 / (k * (2 * l + 2 * k + 1));
      sum += term;
    }
    return sum;
  };
  for (let l = 0; l <= 3; l++) {
    for (const x of [0.3, 1.7, 4.4]) {
      // j_3's closed form cancels near 0 (15/x^4 terms): ~1e-8 relative at x = 0.3
      assert.ok(Math.abs(sphericalJn(l, x) - series(l, x)) < 1e-7 * Math.abs(series(l, x)), `j_${l}(${x})`);
    }
  }
  for (let l = 0; l <= 2; l++) {
    for (const x of [0.7, 2.3, 6.1, 11.9]) {
      const h = 1e-5;
      const fd = (sphericalJn(l, x + h) - sphericalJn(l, x - h)) / (2 * h);
      assert.ok(Math.abs(sphericalJnPrime(l, x) - fd) < 1e-9, `j_${l}'(${x})`);
    }
  }
});

test('radial basis is orthonormal with weight r^2 on [0, r_c], vanishes at r_c, and its derivative is right', () => {
  const rc = 5;
  const b = new SphericalBesselBasis(3, 3, rc);
  const m = 4000; // Simpson on [0, rc]
  const gram = new Float64Array(81);
  const f = new Float64Array(9);
  for (let k = 0; k <= m; k++) {
    const r = Math.max((rc * k) / m, 1e-9);
    const w = (k === 0 || k === m ? 1 : k % 2 ? 4 : 2) * (rc / m / 3) * r * r;
    b.evaluate(r, f, null, 0);
    for (let p = 0; p < 9; p++) for (let q = 0; q < 9; q++) gram[9 * p + q] += w * f[p]! * f[q]!;
  }
  // same l: orthonormal in n (the zeros make them a Fourier-Bessel series)
  for (let l = 0; l < 3; l++) {
    for (let n = 0; n < 3; n++) {
      for (let n2 = 0; n2 < 3; n2++) {
        const g = gram[9 * (3 * l + n) + 3 * l + n2]!;
        assert.ok(Math.abs(g - (n === n2 ? 1 : 0)) < 1e-6, `<f_${l}${n}, f_${l}${n2}> = ${g}`);
      }
    }
  }
  b.evaluate(rc, f, null, 0);
  for (const x of f) assert.ok(Math.abs(x) < 1e-12);
  const d = new Float64Array(9), fp = new Float64Array(9), fm = new Float64Array(9);
  for (const r of [0.9, 2.2, 3.99, 4.7]) {
    b.evaluate(r, f, d, 0);
    b.evaluate(r + 1e-6, fp, null, 0);
    b.evaluate(r - 1e-6, fm, null, 0);
    for (let c = 0; c < 9; c++) assert.ok(Math.abs(d[c]! - (fp[c]! - fm[c]!) / 2e-6) < 1e-7, `d basis ${c} at ${r}`);
  }
});

test('Y_l^0 are normalised on the sphere and their derivative is right', () => {
  const y = new Float64Array(3), dy = new Float64Array(3);
  const norm = [0, 0, 0];
  const m = 2000;
  for (let k = 0; k <= m; k++) {
    const x = -1 + (2 * k) / m;
    const w = (k === 0 || k === m ? 1 : k % 2 ? 4 : 2) * (2 / m / 3) * 2 * Math.PI;
    sphericalHarmonicsL0(3, x, y, dy);
    for (let l = 0; l < 3; l++) norm[l] += w * y[l]! * y[l]!;
  }
  for (let l = 0; l < 3; l++) assert.ok(Math.abs(norm[l]! - 1) < 1e-9, `|Y_${l}|^2 = ${norm[l]}`);
  const yp = new Float64Array(3), ym = new Float64Array(3), scratch = new Float64Array(3);
  sphericalHarmonicsL0(3, 0.3, y, dy);
  sphericalHarmonicsL0(3, 0.3 + 1e-6, yp, scratch);
  sphericalHarmonicsL0(3, 0.3 - 1e-6, ym, scratch);
  for (let l = 0; l < 3; l++) assert.ok(Math.abs(dy[l]! - (yp[l]! - ym[l]!) / 2e-6) < 1e-8);
});

test('polynomial envelope: 1 at 0, value, slope and curvature 0 at the cutoff, 0 beyond, slope by differences', () => {
  const rc = 4;
  assert.deepEqual(polynomialEnvelope(0, rc), [1, 0]);
  const [v, s] = polynomialEnvelope(rc, rc);
  assert.ok(Math.abs(v) < 1e-15 && Math.abs(s) < 1e-15);
  const curvature = (polynomialEnvelope(rc - 1e-4, rc)[1] - polynomialEnvelope(rc - 2e-4, rc)[1]) / 1e-4;
  assert.ok(Math.abs(curvature) < 1e-3);
  assert.deepEqual(polynomialEnvelope(rc + 0.1, rc), [0, 0]);
  for (const r of [0.5, 2, 3.5]) {
    const fd = (polynomialEnvelope(r + 1e-6, rc)[0] - polynomialEnvelope(r - 1e-6, rc)[0]) / 2e-6;
    assert.ok(Math.abs(polynomialEnvelope(r, rc)[1] - fd) < 1e-8);
  }
});
