/**
 * The M3GNet potential as kldm's products use it: weights from the asset store
 * (`kldm assets fetch m3gnet-mp-2021.2.8`; never from the repository), loaded once per
 * process, evaluated through the batched engine path (fast.ts) for relaxation.
 */
import { assetPath } from '../assets/index.js';
import type { Structure } from '../crystal/types.js';
import type { BatchPotential } from './types.js';
import { m3gnetBatch, type FastOptions } from './fast.js';
import { loadM3GNet, type M3GNetModel } from './weights.js';
import { PassWorkspace } from './workspace.js';

export const M3GNET_ASSET = 'm3gnet-mp-2021.2.8';

let cached: { path: string; model: M3GNetModel } | undefined;

/** M3GNet-MP-2021.2.8-PES from the asset store (an error naming the install command when missing). */
export function loadShippedM3GNet(): M3GNetModel {
  const path = assetPath(M3GNET_ASSET, 'state.pt');
  if (!cached || cached.path !== path) cached = { path, model: loadM3GNet(path) };
  return cached.model;
}

/**
 * The shipped M3GNet as a batched potential for relaxStructures (float32 native engine path by
 * default). The potential keeps one scratch workspace for all its calls (one per FIRE step), so
 * its arrays are not re-allocated every step; it holds that memory while the potential lives.
 */
export function m3gnetPotential(options: FastOptions & { model?: M3GNetModel } = {}): BatchPotential {
  const model = options.model ?? loadShippedM3GNet();
  const fastOptions: FastOptions = { ...options, workspace: options.workspace ?? new PassWorkspace() };
  const potential = (structures: readonly Structure[]) => m3gnetBatch(model, structures, fastOptions);
  return Object.assign(potential, { elements: new Set(model.config.elementTypes) });
}
