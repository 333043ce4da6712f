/** Typed calls to the kldm HTTP API (same origin). */
export interface StructureJson {
  lattice: number[];
  species: string[];
  frac: number[];
}

export interface TrajectoryFrameJson {
  t: number;
  lattice: number[];
  frac: number[];
  vel: number[];
  /** generation jobs: the species of this frame ("X" = type still masked) */
  species?: string[];
}

export interface SampleJson {
  index: number;
  structure: StructureJson;
  minDistance: number;
  volume: number;
  valid: boolean;
  trajectoryFrames: number;
  /** generation jobs: what generateStructures reports */
  id?: string;
  composition?: string;
  numAtoms?: number;
  structValid?: boolean;
  compValid?: boolean;
}

export interface PredictRequestJson {
  kind?: undefined;
  formula: string;
  n: number;
  z: number;
  sampler: string;
  steps: number;
  seed: number;
  model?: string;
}

export interface GenerateRequestJson {
  kind: 'generate';
  model: string;
  n: number;
  atoms?: number;
  atomsRange?: [number, number];
  elements?: string[];
  sampler: string;
  steps: number;
  seed: number;
}

export interface JobJson {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  request: PredictRequestJson | GenerateRequestJson;
  queuePosition: number;
  progress: { step: number; total: number; fraction: number };
  etaSeconds: number | null;
  elapsedSeconds: number;
  error: { code: string; message: string } | null;
  result: {
    /** "generate" for generation jobs (then formula is absent) */
    kind?: 'generate';
    formula?: string;
    model: string;
    sampler: string;
    steps: number;
    seed: number;
    warnings: string[];
    /** generation: how atom counts were chosen, and the element restriction */
    atoms?: string;
    elements?: string[] | null;
    samples: SampleJson[];
  } | null;
}

export interface ModelJson {
  name: string;
  /** csp: predicts a given formula; dng: generates new crystals */
  task: 'csp' | 'dng';
  /** atom counts per cell the model can decode */
  atomCounts: number[];
  dng?: { typeDiffusion: string; trainingAtomCounts: number[] | null };
  meta: Record<string, unknown>;
  card?: string;
}

export interface Limits {
  maxN: number;
  maxZ: number;
  maxSteps: number;
  maxAtoms: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(path, init);
  const data = (await res.json().catch(() => null)) as { error?: { message: string; field?: string } } | null;
  if (!res.ok) throw new ApiError(res.status, data?.error?.message ?? `HTTP ${res.status}`, data?.error?.field);
  return data as T;
}

export const api = {
  health: () => call<{ status: string; version: string; limits: Limits }>('GET', '/api/health'),
  models: () => call<{ models: ModelJson[] }>('GET', '/api/models'),
  predict: (body: Record<string, unknown>) => call<JobJson>('POST', '/api/predict', body),
  generate: (body: Record<string, unknown>) => call<JobJson>('POST', '/api/generate', body),
  jobs: () => call<{ jobs: { id: string; status: string; formula: string; createdAt: string }[] }>('GET', '/api/jobs'),
  job: (id: string) => call<JobJson>('GET', `/api/jobs/${encodeURIComponent(id)}`),
  cancel: (id: string) => call<JobJson>('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
  trajectory: (id: string, k: number) =>
    call<{ frames: TrajectoryFrameJson[]; species: string[] }>('GET', `/api/jobs/${encodeURIComponent(id)}/samples/${k}/trajectory`),
  datasets: () => call<{ datasets: { name: string; splits: string[] }[] }>('GET', '/api/datasets'),
  datasetPage: (name: string, split: string, q: { offset?: number; limit?: number; formula?: string }) => {
    const p = new URLSearchParams();
    if (q.offset !== undefined) p.set('offset', String(q.offset));
    if (q.limit !== undefined) p.set('limit', String(q.limit));
    if (q.formula) p.set('formula', q.formula);
    return call<{ total: number; items: { id: string; formula: string; structure: StructureJson; cif: string | null }[] }>(
      'GET',
      `/api/datasets/${encodeURIComponent(name)}/${encodeURIComponent(split)}?${p}`,
    );
  },
  parse: (cif: string) => call<{ structure: StructureJson }>('POST', '/api/parse', { cif }),
  match: (cifA: string, cifB: string) => call<{ match: boolean; rms: number | null }>('POST', '/api/match', { cif_a: cifA, cif_b: cifB }),
  sampleText: async (id: string, k: number, format: string): Promise<string> => {
    const res = await fetch(downloadUrl(id, k, format));
    if (!res.ok) throw new ApiError(res.status, `download failed (HTTP ${res.status})`);
    return res.text();
  },
};

export function downloadUrl(id: string, k: number, format: string): string {
  return `/api/jobs/${encodeURIComponent(id)}/samples/${k}/download?format=${format}`;
}

export function jobDownloadUrl(id: string, format: string): string {
  return `/api/jobs/${encodeURIComponent(id)}/download?format=${format}`;
}
