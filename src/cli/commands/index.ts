/**
 * Registry of CLI commands. Each command lives in its own file in this folder;
 * add one line here to expose it.
 */
import type { Command } from '../command.js';
import { evaluateCommand } from './evaluate.js';
import { matchCommand } from './match.js';
import { serveCommand } from './serve.js';
import { dataCommand } from './data.js';
import { assetsCommand } from './assets.js';
import { trainCommand } from './train.js';
import { sampleCommand } from './sample.js';
import { predictCommand } from './predict.js';
import { generateCommand } from './generate.js';
import { plotCommand } from './plot.js';
import { workerCommand } from './worker.js';
import { relaxCommand } from './relax.js';

export const commands: Command[] = [
  predictCommand,
  generateCommand,
  sampleCommand,
  evaluateCommand,
  matchCommand,
  trainCommand,
  plotCommand,
  dataCommand,
  assetsCommand,
  serveCommand,
  workerCommand,
  relaxCommand,
];
