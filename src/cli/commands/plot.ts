/**
 * `kldm plot <run-dir>`: the loss and validation curves of a training run as an SVG.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { compareCurvesSvg, curvesSvg, readRunCurves } from '../../training/plot.js';

const usage = `Usage: kldm plot <run-dir> [--out curves.svg] [--compare <other-run-dir>]

Reads <run-dir>/log.jsonl (written by kldm train) and writes the training and validation
loss curves and the validation match rate as an SVG (default <run-dir>/curves.svg).
With --compare, both runs' curves on one chart (e.g. the same run in f32 and bf16), labelled by
their directory names (default out: <run-dir>/compare.svg).
`;

function logOf(runDir: string): string {
  const log = join(runDir, 'log.jsonl');
  if (!existsSync(log)) throw new InputError(`${log} not found (is ${runDir} a kldm train run directory?)`);
  return log;
}

export const plotCommand: Command = {
  name: 'plot',
  summary: 'plot the loss and validation curves of a training run (SVG)',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { out: { type: 'string' }, compare: { type: 'string' } } });
    if (positionals.length !== 1) throw new InputError('expected one run directory: kldm plot <run-dir>');
    const runDir = positionals[0]!;
    const log = logOf(runDir);
    const otherLog = values.compare === undefined ? null : logOf(values.compare);
    const out = values.out ?? join(runDir, otherLog ? 'compare.svg' : 'curves.svg');
    // SVG only: writing SVG text into a file named .png would give an image no viewer opens
    if (!/\.svg$/i.test(out)) {
      throw new InputError(`--out ${out}: kldm plot writes SVG only; name the file .svg (a browser or rsvg-convert turns it into PNG)`);
    }
    const curves = readRunCurves(log);
    if (otherLog) {
      const other = readRunCurves(otherLog);
      writeFileAtomic(out, compareCurvesSvg(curves, basename(resolve(runDir)), other, basename(resolve(values.compare!))));
      console.log(`wrote ${out} (${curves.trainLoss.length} + ${other.trainLoss.length} train points, ${curves.valLoss.length} + ${other.valLoss.length} validations)`);
      return 0;
    }
    writeFileAtomic(out, curvesSvg(curves));
    console.log(`wrote ${out} (${curves.trainLoss.length} train points, ${curves.valLoss.length} validations)`);
    return 0;
  },
};
