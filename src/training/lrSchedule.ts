/**
 * Learning rate of optimiser step `step` (0-based, counted within the run).
 *
 * The spec's protocol (§8) is a constant rate. Two optional deviations, both off by default:
 * - a linear warm-up over the first `warmupSteps` steps (for warm starts with a fresh Adam state);
 * - a cosine decay over `decaySteps` steps after the warm-up, from `lr` down to `lr · minLrRatio`,
 *   held there afterwards (issue #13's learning-rate ablation: annealing a long constant-rate run).
 */
import type { OptimConfig } from './config.js';

export type LrScheduleConfig = Pick<OptimConfig, 'lr' | 'warmupSteps' | 'decaySteps' | 'minLrRatio'>;

export function learningRateAt(step: number, o: LrScheduleConfig): number {
  if (o.warmupSteps > 0 && step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  if (o.decaySteps <= 0) return o.lr;
  const k = Math.min(step - o.warmupSteps, o.decaySteps);
  const cosine = 0.5 * (1 + Math.cos((Math.PI * k) / o.decaySteps));
  return o.lr * (o.minLrRatio + (1 - o.minLrRatio) * cosine);
}
