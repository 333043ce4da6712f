/** OpenAPI 3.1 description of the kldm HTTP API, served at /api/openapi.json. */
import type { ServerLimits } from './limits.js';

const json = (schema: Record<string, unknown>, description = 'OK'): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema } },
});
const ref = (name: string): Record<string, string> => ({ $ref: `#/components/schemas/${name}` });
const errors = (...codes: number[]): Record<string, unknown> =>
  Object.fromEntries(codes.map((c) => [String(c), json(ref('Error'), 'Error (see error.field for the bad field)')]));
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const sampleParam = { name: 'k', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } };
const formatParam = {
  name: 'format',
  in: 'query',
  schema: { type: 'string', enum: ['cif', 'poscar', 'extxyz', 'json'], default: 'cif' },
};

export function openApiDocument(version: string, limits: ServerLimits): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'kldm',
      version,
      description:
        'Crystal structure prediction (CSP) and de-novo generation (DNG) with kinetic Langevin diffusion (KLDM). ' +
        'Predictions and generations run as queued jobs of the same queue; poll GET /api/jobs/{id} or follow ' +
        'GET /api/jobs/{id}/events (Server-Sent Events).',
    },
    paths: {
      '/api/health': { get: { summary: 'Liveness, version, queue state, prediction workers (started, busy, restarts after crashes or kills) and limits', responses: { 200: json({ type: 'object' }) } } },
      '/api/models': {
        get: {
          summary: 'Shipped models with their model cards; task "csp" models serve /api/predict, task "dng" models /api/generate',
          responses: { 200: json({ type: 'object', properties: { models: { type: 'array', items: ref('Model') } } }) },
        },
      },
      '/api/formula': {
        get: {
          summary: 'Validate a formula (the page calls this as you type)',
          parameters: [
            { name: 'formula', in: 'query', required: true, schema: { type: 'string' } },
            { name: 'z', in: 'query', schema: { type: 'integer', minimum: 1, maximum: limits.maxZ } },
          ],
          responses: { 200: json({ type: 'object' }), ...errors(400) },
        },
      },
      '/api/predict': {
        post: {
          summary: 'Submit a prediction job',
          requestBody: { required: true, content: { 'application/json': { schema: ref('PredictRequest') } } },
          responses: { 202: json(ref('Job'), 'Job accepted'), ...errors(400, 413, 415, 429) },
        },
      },
      '/api/generate': {
        post: {
          summary: 'Submit a de-novo generation job (a DNG model invents types, positions and lattice); results and trajectories as for predictions, frames with the species of each moment',
          requestBody: { required: true, content: { 'application/json': { schema: ref('GenerateRequest') } } },
          responses: { 202: json(ref('Job'), 'Job accepted'), ...errors(400, 413, 415, 429, 503) },
        },
      },
      '/api/jobs': { get: { summary: 'Jobs kept by the server (kind predict or generate)', responses: { 200: json({ type: 'object' }) } } },
      '/api/jobs/{id}': {
        get: { summary: 'Job status, progress, ETA and results', parameters: [idParam], responses: { 200: json(ref('Job')), ...errors(404) } },
        delete: { summary: 'Cancel a job', parameters: [idParam], responses: { 200: json(ref('Job')), 202: json(ref('Job')), ...errors(404) } },
      },
      '/api/jobs/{id}/events': {
        get: {
          summary: 'Server-Sent Events: status, progress, frame (trajectory), end',
          parameters: [idParam],
          responses: { 200: { description: 'text/event-stream' }, ...errors(404, 503) },
        },
      },
      '/api/jobs/{id}/download': {
        get: {
          summary: 'All samples as one file (cif: multi-block, extxyz: multi-frame, json: full result with trajectories)',
          parameters: [idParam, formatParam],
          responses: { 200: { description: 'file' }, ...errors(400, 404, 409) },
        },
      },
      '/api/jobs/{id}/samples/{k}/download': {
        get: { summary: 'One sample as CIF, POSCAR, extXYZ or JSON', parameters: [idParam, sampleParam, formatParam], responses: { 200: { description: 'file' }, ...errors(400, 404, 409) } },
      },
      '/api/jobs/{id}/samples/{k}/trajectory': {
        get: { summary: 'Denoising trajectory of one sample', parameters: [idParam, sampleParam], responses: { 200: json({ type: 'object' }), ...errors(400, 404, 409) } },
      },
      '/api/datasets': { get: { summary: 'Benchmark datasets and their splits', responses: { 200: json({ type: 'object' }) } } },
      '/api/datasets/{name}/{split}': {
        get: {
          summary: 'Browse benchmark structures',
          parameters: [
            { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'split', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: limits.maxPageSize, default: 20 } },
            { name: 'formula', in: 'query', schema: { type: 'string' } },
          ],
          responses: { 200: json({ type: 'object' }), ...errors(400, 404) },
        },
      },
      '/api/parse': {
        post: {
          summary: 'Parse a CIF into the JSON structure form',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['cif'], properties: { cif: { type: 'string' } } } } } },
          responses: { 200: json({ type: 'object', properties: { structure: ref('Structure') } }), ...errors(400, 413, 415) },
        },
      },
      '/api/match': {
        post: {
          summary: "Compare two CIFs with the CSP evaluator's StructureMatcher (spec §9)",
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', required: ['cif_a', 'cif_b'], properties: { cif_a: { type: 'string' }, cif_b: { type: 'string' } } } } },
          },
          responses: {
            200: json({ type: 'object', properties: { match: { type: 'boolean' }, rms: { type: ['number', 'null'] } } }),
            ...errors(400, 413, 415),
          },
        },
      },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              required: ['status', 'code', 'message'],
              properties: { status: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
            },
          },
        },
        PredictRequest: {
          type: 'object',
          required: ['formula'],
          additionalProperties: false,
          properties: {
            formula: { type: 'string', maxLength: 100, description: `at most ${limits.maxAtoms} atoms per cell after multiplying by z` },
            n: { type: 'integer', minimum: 1, maximum: limits.maxN, default: 1 },
            z: { type: 'integer', minimum: 1, maximum: limits.maxZ, default: 1 },
            sampler: { type: 'string', enum: ['em', 'pc'], default: 'em' },
            steps: { type: 'integer', minimum: 1, maximum: limits.maxSteps, default: Math.min(1000, limits.maxSteps) },
            seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
            model: { type: 'string' },
            trajectory: { type: 'boolean', default: true },
          },
        },
        GenerateRequest: {
          type: 'object',
          additionalProperties: false,
          properties: {
            model: { type: 'string', description: 'a model of task "dng" (GET /api/models); default: the highest-ranked one installed' },
            n: { type: 'integer', minimum: 1, maximum: limits.maxN, default: 1 },
            atoms: {
              type: 'integer', minimum: 1, maximum: limits.maxAtoms,
              description: "atoms per cell (one of the model's atomCounts); without atoms and atomsRange the model's training distribution of atom counts",
            },
            atomsRange: {
              type: 'array', items: { type: 'integer', minimum: 1, maximum: limits.maxAtoms }, minItems: 2, maxItems: 2,
              description: '[lo, hi]: atom counts uniform over lo..hi inclusive; not with atoms',
            },
            elements: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'chemical system: only these element symbols are generated (restricted inside every type update)' },
            sampler: { type: 'string', enum: ['em', 'pc'], default: 'pc' },
            steps: { type: 'integer', minimum: 1, maximum: limits.maxSteps, default: Math.min(1000, limits.maxSteps) },
            seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
            trajectory: { type: 'boolean', default: true, description: 'record the denoising trajectory; its frames carry the species of that moment ("X" = still masked)' },
          },
        },
        Model: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            task: { type: 'string', enum: ['csp', 'dng'] },
            atomCounts: { type: 'array', items: { type: 'integer' }, description: "atom counts per cell the model's lattice statistics can decode" },
            dng: {
              type: 'object',
              description: 'DNG models only',
              properties: { typeDiffusion: { type: 'string' }, trainingAtomCounts: { type: ['array', 'null'], items: { type: 'integer' } } },
            },
            meta: { type: 'object', description: 'model.json without the network and statistics blocks' },
            card: { type: 'string', description: 'MODEL_CARD.md' },
          },
        },
        Structure: {
          type: 'object',
          properties: {
            lattice: { type: 'array', items: { type: 'number' }, minItems: 9, maxItems: 9, description: 'rows a, b, c in Å' },
            species: { type: 'array', items: { type: 'string' } },
            frac: { type: 'array', items: { type: 'number' }, description: 'fractional coordinates, N*3' },
          },
        },
        Job: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            status: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
            queuePosition: { type: 'integer' },
            progress: { type: 'object', properties: { step: { type: 'integer' }, total: { type: 'integer' }, fraction: { type: 'number' } } },
            etaSeconds: { type: ['number', 'null'] },
            error: { type: ['object', 'null'] },
            result: {
              type: ['object', 'null'],
              description:
                'samples with structure, minDistance, volume, valid, trajectoryFrames; a generation result has kind "generate", atoms, ' +
                'elements, and per sample id, composition, numAtoms, structValid (= valid) and compValid (SMACT)',
            },
          },
        },
      },
    },
  };
}
