/**
 * Validation of request data. Every rejection is a 400 that names the field,
 * so that the page (and curl users) can point at what to fix.
 */
import { InputError, errorMessage } from '../util/errors.js';
import { HttpError, badField } from './http-error.js';
import type { ServerLimits } from './limits.js';
import type { GenerateJobRequest, ModelInfo, PredictJobRequest, Services, StructureFormat } from './services.js';
import { elementBySymbol, isElementSymbol } from '../crystal/elements.js';
import { NUM_TYPE_CLASSES } from '../diffusion/masking.js';
import { formatIntegerRuns } from '../util/integerRuns.js';

export type JsonObject = Record<string, unknown>;

export function expectObject(body: unknown): JsonObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_body', 'request body must be a JSON object', 'body');
  }
  return body as JsonObject;
}

export function rejectUnknownFields(body: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badField(key, `unknown field (allowed: ${allowed.join(', ')})`);
  }
}

export function intField(body: JsonObject, field: string, min: number, max: number, fallback: number): number {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badField(field, `must be an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw badField(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

export function stringField(body: JsonObject, field: string, maxLength: number): string {
  const v = body[field];
  if (v === undefined || v === null) throw badField(field, 'is required');
  if (typeof v !== 'string') throw badField(field, `must be a string, got ${typeof v}`);
  if (v.trim().length === 0) throw badField(field, 'must not be empty');
  if (v.length > maxLength) throw badField(field, `must be at most ${maxLength} characters`);
  return v;
}

/** Integer query parameter (strings of digits only). */
export function intQuery(params: URLSearchParams, field: string, min: number, max: number, fallback: number): number {
  const raw = params.get(field);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw badField(field, `must be a non-negative integer, got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v < min || v > max) throw badField(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** Names are used as keys only (never as paths), but keep them to a harmless alphabet anyway. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const PREDICT_FIELDS = ['formula', 'n', 'z', 'sampler', 'steps', 'seed', 'model', 'trajectory'] as const;

export async function parsePredictRequest(
  raw: unknown,
  limits: ServerLimits,
  services: Services,
  randomSeed: () => number,
): Promise<PredictJobRequest> {
  const body = expectObject(raw);
  rejectUnknownFields(body, PREDICT_FIELDS);
  const formula = stringField(body, 'formula', 100).trim();
  const n = intField(body, 'n', 1, limits.maxN, 1);
  const z = intField(body, 'z', 1, limits.maxZ, 1);
  const steps = intField(body, 'steps', 1, limits.maxSteps, Math.min(1000, limits.maxSteps));
  const seed = intField(body, 'seed', 0, 0xffffffff, randomSeed());
  const sampler = samplerField(body, 'em');
  const trajectory = trajectoryField(body);
  let model: string | undefined;
  if (body.model !== undefined && body.model !== null && body.model !== '') {
    model = modelNameField(body);
    const known = (await services.listModels()).map((m) => m.name);
    if (known.length > 0 && !known.includes(model)) {
      throw badField('model', `unknown model "${model}" (shipped: ${known.join(', ')})`);
    }
  }

  let counts: Record<string, number>;
  try {
    counts = await services.parseFormula(formula);
  } catch (err) {
    if (err instanceof InputError || err instanceof HttpError) throw badField('formula', errorMessage(err));
    throw err;
  }
  const perUnit = Object.values(counts).reduce((s, c) => s + c, 0);
  if (!(perUnit > 0)) throw badField('formula', 'has no atoms');
  const atoms = perUnit * z;
  if (atoms > limits.maxAtoms) {
    throw badField(
      Object.prototype.hasOwnProperty.call(body, 'z') && z > 1 ? 'z' : 'formula',
      `${formula} x z=${z} has ${atoms} atoms per cell; the server allows at most ${limits.maxAtoms}`,
    );
  }
  const trajectoryStride = Math.max(1, Math.ceil(steps / limits.maxFramesPerSample));
  const request: PredictJobRequest = { formula, n, z, sampler, steps, seed, trajectory, trajectoryStride };
  if (model !== undefined) request.model = model;
  return request;
}

function samplerField(body: JsonObject, fallback: 'em' | 'pc'): 'em' | 'pc' {
  if (body.sampler === undefined || body.sampler === null) return fallback;
  if (body.sampler !== 'em' && body.sampler !== 'pc') {
    throw badField('sampler', `must be "em" or "pc", got ${JSON.stringify(body.sampler)}`);
  }
  return body.sampler;
}

function trajectoryField(body: JsonObject): boolean {
  if (body.trajectory === undefined || body.trajectory === null) return true;
  if (typeof body.trajectory !== 'boolean') throw badField('trajectory', 'must be true or false');
  return body.trajectory;
}

function modelNameField(body: JsonObject): string {
  if (typeof body.model !== 'string' || !SAFE_NAME.test(body.model)) {
    throw badField('model', 'must be a model name (letters, digits, ".", "_", "-")');
  }
  return body.model;
}

export const GENERATE_FIELDS = ['model', 'n', 'atoms', 'atomsRange', 'elements', 'sampler', 'steps', 'seed', 'trajectory'] as const;

/** Element symbols of a chemical system at most (the K = 100 type classes hold Z 1..99, spec §13.12). */
const MAX_ELEMENTS = NUM_TYPE_CLASSES - 1;

/**
 * Validates a generation request against the limits and the named DNG model (default: the highest-ranked
 * installed DNG model): atom counts must be ones the model's lattice statistics can decode (spec §13.13) and
 * within the server's atoms-per-cell cap; element symbols must be elements of the model's type classes.
 */
export async function parseGenerateRequest(
  raw: unknown,
  limits: ServerLimits,
  services: Services,
  randomSeed: () => number,
): Promise<GenerateJobRequest> {
  const body = expectObject(raw);
  rejectUnknownFields(body, GENERATE_FIELDS);
  const models = await services.listModels();
  const dngModels = models.filter((m) => m.task === 'dng');
  let model: ModelInfo;
  if (body.model !== undefined && body.model !== null && body.model !== '') {
    const name = modelNameField(body);
    const found = models.find((m) => m.name === name);
    const dngNames = dngModels.map((m) => m.name).join(', ') || 'none installed';
    if (!found) throw badField('model', `unknown model "${name}" (DNG models: ${dngNames})`);
    if (found.task !== 'dng') {
      throw badField('model', `model "${name}" is a crystal-structure-prediction (CSP) model: it predicts a given formula (POST /api/predict) and cannot generate new crystals; DNG models: ${dngNames}`);
    }
    model = found;
  } else {
    if (dngModels.length === 0) throw new HttpError(503, 'no_models', 'no de-novo generation (DNG) model is installed on this server', 'model');
    model = dngModels[0]!;
  }
  const n = intField(body, 'n', 1, limits.maxN, 1);
  const steps = intField(body, 'steps', 1, limits.maxSteps, Math.min(1000, limits.maxSteps));
  const seed = intField(body, 'seed', 0, 0xffffffff, randomSeed());
  const sampler = samplerField(body, 'pc');
  const trajectory = trajectoryField(body);
  const request: GenerateJobRequest = {
    kind: 'generate', model: model.name, n, sampler, steps, seed, trajectory,
    trajectoryStride: Math.max(1, Math.ceil(steps / limits.maxFramesPerSample)),
  };

  // atom counts: fixed, a range, or the training distribution; each count must be decodable and under the cap
  const known = new Set(model.atomCounts);
  const knownText = formatIntegerRuns(model.atomCounts) || 'none';
  const checkCount = (field: string, count: number): void => {
    if (count > limits.maxAtoms) throw badField(field, `${count} atoms per cell; the server allows at most ${limits.maxAtoms}`);
    if (!known.has(count)) throw badField(field, `model ${model.name} cannot generate cells of ${count} atoms (it knows N = ${knownText})`);
  };
  const hasAtoms = body.atoms !== undefined && body.atoms !== null;
  const hasRange = body.atomsRange !== undefined && body.atomsRange !== null;
  if (hasAtoms && hasRange) throw badField('atomsRange', 'give at most one of atoms and atomsRange');
  if (hasAtoms) {
    request.atoms = intField(body, 'atoms', 1, 1_000_000, 1);
    checkCount('atoms', request.atoms);
  } else if (hasRange) {
    const r = body.atomsRange;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 1)) {
      throw badField('atomsRange', `must be [lo, hi], two positive integers, got ${JSON.stringify(r).slice(0, 100)}`);
    }
    const [lo, hi] = r as [number, number];
    if (lo > hi) throw badField('atomsRange', `lo ${lo} is greater than hi ${hi}`);
    if (hi > limits.maxAtoms) throw badField('atomsRange', `${hi} atoms per cell; the server allows at most ${limits.maxAtoms}`);
    for (let c = lo; c <= hi; c++) checkCount('atomsRange', c);
    request.atomsRange = [lo, hi];
  } else {
    const training = model.dng?.trainingAtomCounts;
    if (!training || training.length === 0) {
      throw badField('atoms', `model ${model.name} has no training distribution of atom counts; give atoms or atomsRange`);
    }
    const largest = training[training.length - 1]!;
    if (largest > limits.maxAtoms) {
      throw badField('atoms', `the training distribution of ${model.name} reaches ${largest} atoms per cell, over the server's cap of ${limits.maxAtoms}; give atoms or atomsRange`);
    }
  }

  if (body.elements !== undefined && body.elements !== null) {
    const e = body.elements;
    if (!Array.isArray(e) || e.length === 0 || e.length > MAX_ELEMENTS || !e.every((x) => typeof x === 'string')) {
      throw badField('elements', `must be a non-empty list of at most ${MAX_ELEMENTS} element symbols, e.g. ["Li", "Fe", "P", "O"]`);
    }
    const symbols = [...new Set((e as string[]).map((x) => x.trim()))];
    for (const sym of symbols) {
      if (!isElementSymbol(sym)) throw badField('elements', `unknown element symbol ${JSON.stringify(sym.slice(0, 10))}`);
      const z = elementBySymbol(sym).Z;
      if (z >= NUM_TYPE_CLASSES) throw badField('elements', `${sym} (Z = ${z}) is outside the type classes of DNG models (Z 1..${NUM_TYPE_CLASSES - 1})`);
    }
    request.elements = symbols;
  }
  return request;
}

export const FORMATS: readonly StructureFormat[] = ['cif', 'poscar', 'extxyz', 'json'];

export function parseFormat(params: URLSearchParams): StructureFormat {
  const f = params.get('format') ?? 'cif';
  if (!(FORMATS as readonly string[]).includes(f)) throw badField('format', `must be one of ${FORMATS.join(', ')}`);
  return f as StructureFormat;
}
