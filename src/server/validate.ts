/**
 * Validation of request data. Every rejection is a 400 that names the field,
 * so that the page (and curl users) can point at what to fix.
 */
import { InputError, errorMessage } from '../util/errors.js';
import { HttpError, badField } from './http-error.js';
import type { ServerLimits } from './limits.js';
import type { PredictJobRequest, Services, StructureFormat } from './services.js';

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
  let sampler: 'em' | 'pc' = 'em';
  if (body.sampler !== undefined && body.sampler !== null) {
    if (body.sampler !== 'em' && body.sampler !== 'pc') {
      throw badField('sampler', `must be "em" or "pc", got ${JSON.stringify(body.sampler)}`);
    }
    sampler = body.sampler;
  }
  let trajectory = true;
  if (body.trajectory !== undefined && body.trajectory !== null) {
    if (typeof body.trajectory !== 'boolean') throw badField('trajectory', 'must be true or false');
    trajectory = body.trajectory;
  }
  let model: string | undefined;
  if (body.model !== undefined && body.model !== null && body.model !== '') {
    if (typeof body.model !== 'string' || !SAFE_NAME.test(body.model)) {
      throw badField('model', 'must be a model name (letters, digits, ".", "_", "-")');
    }
    model = body.model;
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

export const FORMATS: readonly StructureFormat[] = ['cif', 'poscar', 'extxyz', 'json'];

export function parseFormat(params: URLSearchParams): StructureFormat {
  const f = params.get('format') ?? 'cif';
  if (!(FORMATS as readonly string[]).includes(f)) throw badField('format', `must be one of ${FORMATS.join(', ')}`);
  return f as StructureFormat;
}
