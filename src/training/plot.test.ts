import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCurvesSvg, curvesSvg, logTicks, readRunCurves } from './plot.js';

test('curves keep the latest record of a step replayed after a resume and skip bad lines', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-plot-')), 'log.jsonl');
  const lines = [
    { type: 'start', dataset: 'perov_5', config: 'cpu-small' },
    { type: 'train', step: 20, loss: 0.5, lossV: 0.7, lossL: 0.3 },
    { type: 'train', step: 40, loss: 0.4, lossV: 0.6, lossL: 0.2 },
    { type: 'train', step: 40, loss: 0.41, lossV: 0.61, lossL: 0.21 }, // replayed after kill -9 + resume
    { type: 'val', step: 45, loss: 0.38, lossV: 0.5, lossL: 0.26, matchRate: 0.25 },
    { type: 'val', step: 90, loss: 0.3, lossV: 0.4, lossL: 0.2, matchRate: null },
  ].map((r) => JSON.stringify(r));
  writeFileSync(path, lines.join('\n') + '\n{"type": "train", "step": 6\n');
  const c = readRunCurves(path);
  assert.equal(c.title, 'perov_5, config cpu-small');
  assert.deepEqual(c.trainLoss, [{ step: 20, value: 0.5 }, { step: 40, value: 0.41 }]);
  assert.deepEqual(c.valLoss.map((p) => p.step), [45, 90]);
  assert.deepEqual(c.valMatch, [{ step: 45, value: 25 }]);
  const svg = curvesSvg(c);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<path /g) ?? []).length, 7); // 2 + 4 loss series, 1 match-rate series
  assert.match(svg, />0\.5</); // a 1-2-5 log tick
  // up to a checkpoint's step only (a model exported from an older checkpoint than the log's end)
  const upTo45 = readRunCurves(path, 45);
  assert.deepEqual(upTo45.trainLoss.map((p) => p.step), [20, 40]);
  assert.deepEqual(upTo45.valLoss.map((p) => p.step), [45]);
});

test('the title of a warm-started run says what it continues and that steps are its own', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-plot-')), 'log.jsonl');
  const start = { type: 'start', dataset: 'mp_20', config: 'cpu-small', initFrom: { source: 'model mp20-cpu-small', epochs: 281, steps: 29799 } };
  writeFileSync(path, JSON.stringify(start) + '\n');
  const c = readRunCurves(path);
  assert.equal(c.title, "mp_20, config cpu-small; continues model mp20-cpu-small after 281 epochs, 29,799 steps (steps are this run's)");
  assert.match(curvesSvg(c), /continues model mp20-cpu-small after 281 epochs, 29,799 steps \(steps are this run's\)/);
});

test('an empty log gives panels that say so', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-plot-')), 'log.jsonl');
  writeFileSync(path, '');
  assert.equal((curvesSvg(readRunCurves(path)).match(/no data yet/g) ?? []).length, 3);
});

test('log-axis ticks: 1-2-5 per decade, powers of ten over many decades, every mantissa within one decade', () => {
  const l = Math.log10;
  assert.deepEqual(logTicks(l(0.05), l(3)), [0.05, 0.1, 0.2, 0.5, 1, 2]);
  assert.deepEqual(logTicks(l(1e-4), l(1e2)), [1e-4, 1e-3, 0.01, 0.1, 1, 10, 100]);
  // a loss between 0.22 and 0.48: 1-2-5 gives nothing, so 0.3 and 0.4 label the axis
  assert.deepEqual(logTicks(l(0.22), l(0.48)), [0.3, 0.4]);
  assert.deepEqual(logTicks(l(0.15), l(0.45)), [0.2, 0.3, 0.4]);
});

test('DNG runs get the type loss and the generated validity curves', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-plot-')), 'log.jsonl');
  const lines = [
    { type: 'start', dataset: 'perov_5', config: 'cpu-small' },
    { type: 'train', step: 20, loss: 1.5, lossV: 0.7, lossL: 0.3, lossH: 3.5 },
    { type: 'val', step: 45, loss: 1.2, lossV: 0.5, lossL: 0.26, lossH: 2.8, matchRate: null, structValidity: 0.62, compValidity: 0.945 },
  ].map((r) => JSON.stringify(r));
  writeFileSync(path, lines.join('\n') + '\n');
  const c = readRunCurves(path);
  assert.deepEqual(c.trainH, [{ step: 20, value: 3.5 }]);
  assert.deepEqual(c.valStructValidity, [{ step: 45, value: 62 }]);
  assert.deepEqual(c.valCompValidity, [{ step: 45, value: 94.5 }]);
  const svg = curvesSvg(c);
  assert.match(svg, /validation: generated structures/);
  assert.match(svg, /train types L_h/);
  assert.doesNotMatch(svg, /validation match rate/);
});

test('two runs on one chart: every series of both runs is drawn, labelled by run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-plot-'));
  const write = (name: string, scale: number): string => {
    const path = join(dir, `${name}.jsonl`);
    const lines = [
      { type: 'start', dataset: 'perov_5', config: 'cpu-small' },
      { type: 'train', step: 20, loss: 0.5 * scale, lossV: 0.7, lossL: 0.3 },
      { type: 'train', step: 40, loss: 0.4 * scale, lossV: 0.6, lossL: 0.2 },
      { type: 'val', step: 45, loss: 0.38 * scale, lossV: 0.5, lossL: 0.26, matchRate: 0.25 },
    ];
    writeFileSync(path, lines.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return path;
  };
  const svg = compareCurvesSvg(readRunCurves(write('a', 1)), 'perov5-f32', readRunCurves(write('b', 1.01)), 'perov5-bf16');
  // 4 joint-loss series + 4 validation parts + 2 match-rate series
  assert.equal((svg.match(/<path /g) ?? []).length, 10);
  assert.match(svg, />perov5-f32 train</);
  assert.match(svg, />perov5-bf16 validation</);
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 10); // the second run dashed: 5 paths + 5 legend lines
});
