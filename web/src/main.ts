/**
 * kldm web page: submit predictions (CSP) or generations (DNG), follow their
 * progress (Server-Sent Events), browse the results, view structures in 3D,
 * play the denoising trajectory (for generations with the atom types changing
 * from frame to frame), and view/compare an uploaded CIF. The page is a thin
 * shell over the HTTP API: every check it makes as you type is repeated by the
 * server, which has the last word.
 */
import { api, ApiError, downloadUrl, jobDownloadUrl, type JobJson, type Limits, type ModelJson, type StructureJson, type TrajectoryFrameJson } from './api.js';
import { analyse, formulaOf, spaceGroup } from './analysis.js';
import { CrystalViewer, MASKED } from './viewer.js';
import { expandSites, parseFormula, totalAtoms } from '../../src/crystal/composition.js';
import { elementSymbol, isElementSymbol } from '../../src/crystal/elements.js';
import { formatIntegerRuns } from '../../src/util/integerRuns.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

interface JobView {
  job: JobJson;
  li: HTMLLIElement;
  events: EventSource | null;
  /** live frames per sample while the job runs */
  live: TrajectoryFrameJson[][];
  /** species in the predictor's site order (each element contiguous, formula order); empty for generations (their frames carry them) */
  species: string[];
}

const isGenerate = (j: JobJson): boolean => j.request.kind === 'generate';

type Selection =
  | { kind: 'sample'; jobId: string; k: number; structure: StructureJson }
  | { kind: 'live'; jobId: string }
  | { kind: 'upload'; structure: StructureJson };

let limits: Limits = { maxN: 20, maxZ: 8, maxSteps: 2000, maxAtoms: 64 };
let models: ModelJson[] = [];
const jobs = new Map<string, JobView>();
let selection: Selection | null = null;
let frames: TrajectoryFrameJson[] = [];
let playTimer: number | undefined;
let viewer: CrystalViewer;

// ------------------------------------------------------------------ formula validation

function siteSpecies(formula: string, z: number): string[] {
  // the predictor's site order: the formula's counts times z, each element's sites contiguous
  const c = parseFormula(formula, { maxAtoms: 1e6 });
  return expandSites({ elements: c.elements, counts: c.counts.map((n) => n * z) }).map((Z) => elementSymbol(Z));
}

/** validates as the user types; returns an error message or null */
function checkFormula(): string | null {
  const input = $<HTMLInputElement>('formula');
  const msg = $('formula-msg');
  const text = input.value.trim();
  const z = Number($<HTMLInputElement>('z').value) || 1;
  let error: string | null = null;
  let info = '';
  if (text === '') error = 'enter a formula';
  else {
    try {
      const c = parseFormula(text, { maxAtoms: 1e6 });
      const atoms = totalAtoms(c) * z;
      if (atoms > limits.maxAtoms) error = `${atoms} atoms per cell (Z=${z}); the server allows at most ${limits.maxAtoms}`;
      else info = `${c.elements.map((e, i) => `${e}×${c.counts[i]! * z}`).join(' ')} · ${atoms} atoms per cell`;
    } catch (err) {
      error = (err as Error).message.replace(/^formula "[^"]*": /, '');
    }
  }
  input.setAttribute('aria-invalid', String(error !== null && text !== ''));
  msg.textContent = error ?? info;
  msg.className = 'msg ' + (error ? (text === '' ? '' : 'err') : 'ok');
  return error;
}

function intInput(id: string, label: string, min: number, max: number, optional = false): number | undefined {
  const el = $<HTMLInputElement>(id);
  if (optional && el.value.trim() === '') return undefined;
  const v = Number(el.value);
  if (!Number.isInteger(v) || v < min || v > max) throw new ApiError(400, `${label} must be an integer from ${min} to ${max}`, id);
  return v;
}

// ------------------------------------------------------------------ jobs

async function submit(e: Event): Promise<void> {
  e.preventDefault();
  const formMsg = $('form-msg');
  formMsg.textContent = '';
  formMsg.className = 'msg';
  const ferr = checkFormula();
  if (ferr) {
    formMsg.textContent = `Formula: ${ferr}`;
    formMsg.className = 'msg err';
    $('formula').focus();
    return;
  }
  try {
    const body: Record<string, unknown> = {
      formula: $<HTMLInputElement>('formula').value.trim(),
      n: intInput('n', 'n', 1, limits.maxN),
      z: intInput('z', 'Z', 1, limits.maxZ),
      sampler: $<HTMLSelectElement>('sampler').value,
      steps: intInput('steps', 'steps', 1, limits.maxSteps),
    };
    const seed = intInput('seed', 'seed', 0, 4294967295, true);
    if (seed !== undefined) body.seed = seed;
    const model = $<HTMLSelectElement>('model').value;
    if (model) body.model = model;
    const job = await api.predict(body);
    addJob(job);
  } catch (err) {
    const field = err instanceof ApiError ? err.field : undefined;
    formMsg.textContent = err instanceof Error ? err.message : String(err);
    formMsg.className = 'msg err';
    if (field && document.getElementById(field)) $(field).focus();
  }
}

// ------------------------------------------------------------------ generate mode (DNG)

/** the DNG model chosen in the Generate form */
function genModel(): ModelJson | undefined {
  return models.find((m) => m.name === $<HTMLSelectElement>('gen-model').value && m.task === 'dng');
}

/** the atom-count box: empty = the model's training distribution, "N", or "a-b"; checked against the model as you type */
function checkGenAtoms(): { error: string | null; atoms?: number; atomsRange?: [number, number] } {
  const input = $<HTMLInputElement>('gen-atoms');
  const msg = $('gen-atoms-msg');
  const text = input.value.trim();
  const m = genModel();
  const known = new Set(m?.atomCounts ?? []);
  const knownText = m ? `${m.name} knows N = ${formatIntegerRuns(m.atomCounts)}` : '';
  let out: { error: string | null; atoms?: number; atomsRange?: [number, number] } = { error: null };
  let info = '';
  const one = /^(\d{1,4})$/.exec(text);
  const range = /^(\d{1,4})\s*-\s*(\d{1,4})$/.exec(text);
  const check = (c: number): string | null =>
    c < 1 ? 'at least 1 atom' : c > limits.maxAtoms ? `${c} atoms per cell; the server allows at most ${limits.maxAtoms}` : m && !known.has(c) ? `${c} atoms: ${knownText}` : null;
  if (text === '') {
    const training = m?.dng?.trainingAtomCounts;
    info = training && training.length > 0 ? `from the training distribution (N = ${formatIntegerRuns(training)})` : 'from the training distribution';
  } else if (one) {
    out = { error: check(Number(one[1])), atoms: Number(one[1]) };
    info = `${one[1]} atoms per cell`;
  } else if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    let error: string | null = lo > hi ? `${lo} > ${hi}` : null;
    for (let c = lo; c <= hi && !error; c++) error = check(c);
    out = { error, atomsRange: [lo, hi] };
    info = `${lo} to ${hi} atoms per cell, uniform`;
  } else out = { error: 'a number (e.g. 5), a range (e.g. 4-8), or empty for the training distribution' };
  input.setAttribute('aria-invalid', String(out.error !== null));
  msg.textContent = out.error ?? info;
  msg.className = 'msg ' + (out.error ? 'err' : 'ok');
  return out;
}

/** the element box: symbols separated by commas or spaces, each an element of the bundled table */
function checkGenElements(): { error: string | null; elements?: string[] } {
  const input = $<HTMLInputElement>('gen-elements');
  const msg = $('gen-elements-msg');
  const symbols = [...new Set(input.value.split(/[\s,;]+/).filter((x) => x !== ''))];
  let out: { error: string | null; elements?: string[] } = { error: null };
  if (symbols.length > 0) {
    const bad = symbols.find((x) => !isElementSymbol(x));
    out = bad ? { error: `unknown element symbol "${bad.slice(0, 10)}"` } : { error: null, elements: symbols };
  }
  input.setAttribute('aria-invalid', String(out.error !== null));
  msg.textContent = out.error ?? (out.elements ? `only ${out.elements.join(', ')}` : 'any element the model knows');
  msg.className = 'msg ' + (out.error ? 'err' : out.elements ? 'ok' : '');
  return out;
}

async function submitGenerate(e: Event): Promise<void> {
  e.preventDefault();
  const formMsg = $('gen-form-msg');
  formMsg.textContent = '';
  formMsg.className = 'msg';
  const atoms = checkGenAtoms();
  const elements = checkGenElements();
  const problem = !genModel() ? ['gen-model', 'pick a DNG model'] : atoms.error ? ['gen-atoms', `Atoms: ${atoms.error}`] : elements.error ? ['gen-elements', `Elements: ${elements.error}`] : null;
  if (problem) {
    formMsg.textContent = problem[1]!;
    formMsg.className = 'msg err';
    $(problem[0]!).focus();
    return;
  }
  try {
    const body: Record<string, unknown> = {
      model: genModel()!.name,
      n: intInput('gen-n', 'n', 1, limits.maxN),
      sampler: $<HTMLSelectElement>('gen-sampler').value,
      steps: intInput('gen-steps', 'steps', 1, limits.maxSteps),
    };
    const seed = intInput('gen-seed', 'seed', 0, 4294967295, true);
    if (seed !== undefined) body.seed = seed;
    if (atoms.atoms !== undefined) body.atoms = atoms.atoms;
    if (atoms.atomsRange) body.atomsRange = atoms.atomsRange;
    if (elements.elements) body.elements = elements.elements;
    addJob(await api.generate(body));
  } catch (err) {
    // the server names the bad field; point at the matching input of this form
    const field = err instanceof ApiError ? err.field : undefined;
    formMsg.textContent = err instanceof Error ? err.message : String(err);
    formMsg.className = 'msg err';
    const input = field === 'atomsRange' ? 'gen-atoms' : field?.startsWith('gen-') ? field : field ? `gen-${field}` : undefined;
    if (input && document.getElementById(input)) $(input).focus();
  }
}

function fillGenerateModels(): void {
  const dng = models.filter((m) => m.task === 'dng');
  $('gen-model').innerHTML = dng.map((m) => `<option value="${escapeHtml(m.name)}">${escapeHtml(m.name)} (${escapeHtml(m.dng?.typeDiffusion ?? 'dng')})</option>`).join('');
  $<HTMLButtonElement>('generate').disabled = dng.length === 0;
  if (dng.length === 0) {
    $('gen-form-msg').textContent = 'no de-novo generation (DNG) model is installed on this server';
    $('gen-form-msg').className = 'msg err';
  }
  showGenModelCard();
}

function showGenModelCard(): void {
  const m = genModel();
  $('gen-model-card').hidden = !m?.card;
  $('gen-model-card-text').textContent = m?.card ?? '';
  checkGenAtoms();
}

/** Predict / Generate tabs (WAI-ARIA tabs: arrow keys move between them) */
function setMode(mode: 'predict' | 'generate', focus = false): void {
  for (const m of ['predict', 'generate'] as const) {
    const tab = $(`tab-${m}`);
    tab.setAttribute('aria-selected', String(m === mode));
    tab.tabIndex = m === mode ? 0 : -1;
    $(`${m}-panel`).hidden = m !== mode;
  }
  if (focus) $(`tab-${mode}`).focus();
}

function addJob(job: JobJson, watch = true): void {
  const li = document.createElement('li');
  const r = job.request;
  const view: JobView = { job, li, events: null, live: [], species: r.kind === 'generate' ? [] : siteSpecies(r.formula, r.z) };
  jobs.set(job.id, view);
  $('jobs').prepend(li);
  renderJob(view);
  if (job.status === 'queued' || job.status === 'running') follow(view);
  if (watch) select({ kind: 'live', jobId: job.id });
}

/** jobs the server still keeps (e.g. after a page reload) */
async function restoreJobs(): Promise<void> {
  const { jobs: list } = await api.jobs();
  for (const item of list) {
    if (jobs.has(item.id)) continue;
    try {
      addJob(await api.job(item.id), false);
    } catch {
      // evicted meanwhile
    }
  }
  renderGallery();
}

function renderJob(v: JobView): void {
  const j = v.job;
  // built once, then only updated: replacing the button under the pointer would swallow clicks
  if (!v.li.firstChild) {
    const { title, detail } = jobLabel(j);
    v.li.dataset.kind = isGenerate(j) ? 'generate' : 'predict';
    v.li.innerHTML = `<div class="head"><strong>${escapeHtml(title)}</strong>
      <span class="muted small">${escapeHtml(detail)}</span></div>
      <progress max="100" value="0" aria-label="progress of ${escapeHtml(title)}"></progress>
      <div class="head"><span class="status"></span><button type="button" class="cancel">Cancel</button></div>
      <div class="dl all" hidden>all samples: <a href="${jobDownloadUrl(j.id, 'cif')}" download>CIF</a>
        <a href="${jobDownloadUrl(j.id, 'extxyz')}" download>extXYZ</a>
        <a href="${jobDownloadUrl(j.id, 'json')}" download title="with trajectories">JSON</a></div>
      <div class="msg err" hidden></div>`;
    v.li.querySelector<HTMLButtonElement>('.cancel')!.addEventListener('click', () => {
      void api.cancel(v.job.id).then((job) => {
        // the event stream may already have delivered the final state; never step back from it
        if (v.job.status === 'queued' || v.job.status === 'running') v.job = job;
        renderJob(v);
      });
    });
  }
  const pct = Math.round(100 * j.progress.fraction);
  const eta = j.status === 'running' && j.etaSeconds !== null ? ` · ETA ${Math.ceil(j.etaSeconds)} s` : '';
  const where = j.status === 'queued' ? ` (queue #${j.queuePosition})` : '';
  const progress = v.li.querySelector('progress')!;
  progress.value = pct;
  progress.textContent = `${pct}%`;
  const status = v.li.querySelector<HTMLElement>('.status')!;
  status.dataset.status = j.status;
  status.textContent = `${j.status}${where} · ${pct}%${eta}`;
  v.li.querySelector<HTMLButtonElement>('.cancel')!.hidden = !(j.status === 'queued' || j.status === 'running');
  v.li.querySelector<HTMLElement>('.dl.all')!.hidden = j.status !== 'done';
  const err = v.li.querySelector<HTMLElement>('.msg.err')!;
  err.hidden = !(j.error && j.status !== 'cancelled');
  err.textContent = j.error?.message ?? '';
  v.li.classList.toggle('selected', selection !== null && 'jobId' in selection && selection.jobId === j.id);
}

/** what the jobs list says about a job: the formula (prediction) or "Generate" and the model (generation) */
function jobLabel(j: JobJson): { title: string; detail: string } {
  const r = j.request;
  if (r.kind !== 'generate') return { title: r.formula, detail: `n=${r.n} Z=${r.z} ${r.sampler} ${r.steps} steps` };
  const atoms = r.atoms !== undefined ? `${r.atoms} atoms` : r.atomsRange ? `${r.atomsRange[0]}-${r.atomsRange[1]} atoms` : 'atoms: training';
  const elements = r.elements ? ` ${r.elements.join(',')}` : '';
  return { title: `Generate · ${r.model}`, detail: `n=${r.n} ${atoms}${elements} ${r.sampler} ${r.steps} steps` };
}

/**
 * Browsers allow ~6 HTTP/1.1 connections per server and each event stream holds one, so only
 * a few jobs are followed live; the others are polled.
 */
const MAX_STREAMS = 3;

function follow(v: JobView): void {
  if ([...jobs.values()].filter((x) => x.events !== null).length >= MAX_STREAMS) {
    void poll(v);
    return;
  }
  const es = new EventSource(`/api/jobs/${encodeURIComponent(v.job.id)}/events`);
  v.events = es;
  es.addEventListener('progress', (e) => {
    const p = JSON.parse((e as MessageEvent).data) as { step: number; total: number; etaSeconds: number | null };
    v.job.progress = { step: p.step, total: p.total, fraction: p.total > 0 ? p.step / p.total : 0 };
    v.job.etaSeconds = p.etaSeconds;
    if (v.job.status === 'queued') v.job.status = 'running';
    renderJob(v);
  });
  es.addEventListener('status', (e) => {
    const s = JSON.parse((e as MessageEvent).data) as { status: JobJson['status'] };
    v.job.status = s.status;
    renderJob(v);
  });
  es.addEventListener('frame', (e) => {
    const f = JSON.parse((e as MessageEvent).data) as { sample: number; index: number; frame: TrajectoryFrameJson };
    (v.live[f.sample] ??= [])[f.index] = f.frame;
    if (selection?.kind === 'live' && selection.jobId === v.job.id && f.sample === 0 && v.job.status === 'running') {
      showLiveFrame(v, f.frame);
    }
  });
  es.addEventListener('end', (e) => {
    es.close();
    v.events = null;
    v.job = JSON.parse((e as MessageEvent).data) as JobJson;
    renderJob(v);
    renderGallery();
    if (v.job.status === 'done' && selection && 'jobId' in selection && selection.jobId === v.job.id) {
      void selectSample(v.job.id, 0);
    }
  });
  es.onerror = () => {
    // the stream broke before "end": fall back to polling
    if (v.events !== es) return;
    es.close();
    v.events = null;
    void poll(v);
  };
}

async function poll(v: JobView): Promise<void> {
  for (;;) {
    try {
      v.job = await api.job(v.job.id);
    } catch {
      return;
    }
    renderJob(v);
    if (v.job.status !== 'queued' && v.job.status !== 'running') {
      renderGallery();
      if (v.job.status === 'done' && selection?.kind === 'live' && selection.jobId === v.job.id) void selectSample(v.job.id, 0);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ------------------------------------------------------------------ gallery and selection

function renderGallery(): void {
  const g = $('gallery');
  g.innerHTML = '';
  for (const v of [...jobs.values()].reverse()) {
    const r = v.job.result;
    if (!r) continue;
    r.samples.forEach((s, k) => {
      const a = analyse(s.structure);
      const card = document.createElement('article');
      card.className = 'card';
      card.dataset.job = v.job.id;
      card.dataset.sample = String(k);
      const generated = r.kind === 'generate';
      card.dataset.kind = generated ? 'generate' : 'predict';
      const sel = selection?.kind === 'sample' && selection.jobId === v.job.id && selection.k === k;
      card.classList.toggle('selected', sel);
      // generated crystals: structural validity and SMACT composition validity (spec §10.1), as generateStructures reports them
      const badges = generated
        ? `<span class="badges"><span class="badge ${s.valid ? 'ok' : 'bad'}" title="structural validity (spec §10.1)">${s.valid ? 'valid' : 'invalid'}</span>` +
          `<span class="badge ${s.compValid ? 'ok' : 'bad'}" title="SMACT composition validity (spec §10.1)">${s.compValid ? 'SMACT ✓' : 'SMACT ✗'}</span></span>`
        : `<span class="badge ${s.valid ? 'ok' : 'bad'}">${s.valid ? 'valid' : 'invalid'}</span>`;
      const sub = generated && s.id ? `<span class="sub" title="${escapeHtml(s.id)}">${escapeHtml(s.id)}</span>` : '';
      card.innerHTML = `<h3><span>${escapeHtml(a.formula)} #${k}</span>
        ${badges}</h3>${sub}
        <dl><dt>Volume</dt><dd>${fmt(a.volume, 2)} Å³</dd><dt>Density</dt><dd>${fmt(a.density, 3)} g/cm³</dd>
        <dt>Min. dist.</dt><dd>${fmt(s.minDistance, 3)} Å</dd><dt>Space group</dt><dd class="sg">…</dd>
        <dt>Seed</dt><dd>${r.seed}</dd></dl>
        <button type="button" class="view">View in 3D</button>
        <div class="dl">${['cif', 'poscar', 'extxyz', 'json']
          .map((f) => `<a href="${downloadUrl(v.job.id, k, f)}" download>${f === 'extxyz' ? 'extXYZ' : f.toUpperCase()}</a>`)
          .join('')}</div>`;
      card.querySelector('.view')!.addEventListener('click', () => void selectSample(v.job.id, k));
      g.appendChild(card);
      void spaceGroup(s.structure).then((sg) => {
        card.querySelector('.sg')!.textContent = sg ?? 'n/a';
      });
    });
  }
}

function select(s: Selection): void {
  selection = s;
  stop();
  for (const v of jobs.values()) renderJob(v);
  for (const c of document.querySelectorAll<HTMLElement>('.card')) {
    c.classList.toggle('selected', s.kind === 'sample' && c.dataset.job === s.jobId && c.dataset.sample === String(s.k));
  }
}

function showLiveFrame(v: JobView, f: TrajectoryFrameJson): void {
  const what = isGenerate(v.job) ? `Generate · ${v.job.request.model}: sampling… (live, crystal 0)` : `${jobLabel(v.job).title}: sampling… (live, sample 0)`;
  $('viewer-title').textContent = what;
  // a generation frame carries its own species (they change as the types are drawn)
  const species = f.species ?? v.species;
  const first = selection?.kind === 'live' && liveShown !== v.job.id;
  liveShown = v.job.id;
  const changed = viewerSpecies.join() !== species.join();
  viewerSpecies = species;
  viewer.setStructure(species, f, first);
  if (changed) renderLegend();
  $('traj-t').textContent = `t = ${f.t.toFixed(3)}`;
  $('traj-info').textContent = 'live: the player opens when the job is done';
  showTypes(f.species);
  showProps({ lattice: f.lattice, species, frac: f.frac });
}

/** the job whose live frames the viewer shows (the camera is reset once per job) */
let liveShown: string | null = null;

/** the frame's types as text under the player (generation frames only): formula with "?" for masked atoms, and the masked count */
function showTypes(species: string[] | undefined): void {
  const el = $('traj-types');
  el.hidden = species === undefined;
  if (!species) return;
  const masked = species.filter((s) => s === MASKED).length;
  const known = formulaOf(species.filter((s) => s !== MASKED));
  el.innerHTML =
    `types at this frame: <strong>${escapeHtml(known || 'none drawn yet')}</strong> · ` +
    `<span class="${masked > 0 ? 'masked' : ''}">${masked} of ${species.length} masked${masked > 0 ? ' (grey ghosts)' : ''}</span>`;
  el.dataset.species = species.join(' ');
}

let viewerSpecies: string[] = [];

async function selectSample(jobId: string, k: number): Promise<void> {
  const v = jobs.get(jobId);
  const s = v?.job.result?.samples[k];
  if (!v || !s) return;
  select({ kind: 'sample', jobId, k, structure: s.structure });
  const r = v.job.result!;
  $('viewer-title').textContent =
    r.kind === 'generate'
      ? `${formulaOf(s.structure.species)} #${k} (${r.model}, seed ${r.seed}, ${r.sampler}, ${r.steps} steps)`
      : `${r.formula} #${k} (seed ${r.seed}, ${r.sampler}, ${r.steps} steps)`;
  showStructure(s.structure);
  frames = [];
  setPlayer();
  if (s.trajectoryFrames > 0) {
    const t = await api.trajectory(jobId, k);
    if (selection?.kind === 'sample' && selection.jobId === jobId && selection.k === k) {
      frames = t.frames;
      setPlayer(frames.length - 1);
    }
  }
}

function showStructure(s: StructureJson): void {
  viewerSpecies = s.species;
  viewer.setStructure(s.species, s, true);
  renderLegend();
  showTypes(undefined);
  showProps(s);
}

function renderLegend(): void {
  $('legend').innerHTML = viewer
    .legend()
    .map((e) =>
      e.masked
        ? `<span class="el masked" title="type not drawn yet (masking diffusion): translucent grey"><span class="dot masked"></span>? masked ×${e.count}</span>`
        : `<span class="el"><span class="dot" style="background:${e.color}"></span>${e.symbol} <span class="muted small">${e.radius.toFixed(2)} Å</span></span>`,
    )
    .join('');
}

let propsToken = 0;
function showProps(s: StructureJson): void {
  const a = analyse(s);
  $('p-abc').textContent = `${fmt(a.params.a)}, ${fmt(a.params.b)}, ${fmt(a.params.c)}`;
  $('p-angles').textContent = `${fmt(a.params.alpha, 2)}, ${fmt(a.params.beta, 2)}, ${fmt(a.params.gamma, 2)}`;
  $('p-volume').textContent = fmt(a.volume, 2);
  $('p-density').textContent = fmt(a.density, 3);
  $('p-dmin').textContent = fmt(a.minDistance, 3);
  $('p-valid').textContent = a.valid ? 'yes' : 'no (spec §9.1)';
  const token = ++propsToken;
  $('p-sg').textContent = '…';
  void spaceGroup(s).then((sg) => {
    if (token === propsToken) $('p-sg').textContent = sg ?? 'n/a';
  });
}

// ------------------------------------------------------------------ trajectory player

function setPlayer(index?: number): void {
  const slider = $<HTMLInputElement>('traj-slider');
  const play = $<HTMLButtonElement>('traj-play');
  const has = frames.length > 1;
  slider.disabled = !has;
  play.disabled = !has;
  slider.max = String(Math.max(0, frames.length - 1));
  $('traj-info').textContent = has ? `${frames.length} frames (noise → structure)` : 'no trajectory';
  if (has && index !== undefined) {
    slider.value = String(index);
    showFrame(index);
  } else if (!has) $('traj-t').textContent = 't = -';
}

function showFrame(i: number): void {
  const f = frames[i];
  if (!f) return;
  viewer.setFrame(f);
  $('traj-t').textContent = `t = ${f.t.toFixed(3)}`;
  $<HTMLInputElement>('traj-slider').setAttribute('aria-valuetext', `frame ${i + 1} of ${frames.length}, t = ${f.t.toFixed(3)}`);
  if (f.species) {
    // generation: the types of this frame (the viewer recoloured the atoms)
    if (f.species.join() !== viewerSpecies.join()) {
      viewerSpecies = f.species;
      renderLegend();
    }
    showTypes(f.species);
  }
  if (i === frames.length - 1 && selection?.kind === 'sample' && !f.species?.includes(MASKED)) showProps(selection.structure);
  else showProps({ lattice: f.lattice, species: f.species ?? viewerSpecies, frac: f.frac });
}

function stop(): void {
  if (playTimer !== undefined) window.clearInterval(playTimer);
  playTimer = undefined;
  const play = $<HTMLButtonElement>('traj-play');
  play.textContent = '▶';
  play.setAttribute('aria-label', 'Play trajectory');
}

function togglePlay(): void {
  if (playTimer !== undefined) {
    stop();
    return;
  }
  const slider = $<HTMLInputElement>('traj-slider');
  if (Number(slider.value) >= frames.length - 1) slider.value = '0';
  const play = $<HTMLButtonElement>('traj-play');
  play.textContent = '❚❚';
  play.setAttribute('aria-label', 'Pause trajectory');
  // about 4 s for the whole trajectory
  const interval = Math.max(16, 4000 / Math.max(1, frames.length));
  playTimer = window.setInterval(() => {
    const i = Number(slider.value) + 1;
    if (i >= frames.length) {
      stop();
      return;
    }
    slider.value = String(i);
    showFrame(i);
  }, interval);
}

// ------------------------------------------------------------------ uploaded CIF

async function viewCif(): Promise<void> {
  const out = $('cif-result');
  try {
    const { structure } = await api.parse(cifText());
    select({ kind: 'upload', structure });
    $('viewer-title').textContent = 'Uploaded CIF';
    showStructure(structure);
    frames = [];
    setPlayer();
    out.textContent = `${structure.species.length} atoms`;
    out.className = 'msg ok';
  } catch (err) {
    out.textContent = (err as Error).message;
    out.className = 'msg err';
  }
}

async function compareCif(): Promise<void> {
  const out = $('cif-result');
  if (selection?.kind !== 'sample') {
    out.textContent = 'select a predicted structure first (View in 3D)';
    out.className = 'msg err';
    return;
  }
  try {
    const predicted = await api.sampleText(selection.jobId, selection.k, 'cif');
    const m = await api.match(predicted, cifText());
    out.textContent = m.match ? `match · rms = ${m.rms === null ? '-' : m.rms.toFixed(4)}` : 'no match';
    out.className = 'msg ' + (m.match ? 'ok' : 'err');
  } catch (err) {
    out.textContent = (err as Error).message;
    out.className = 'msg err';
  }
}

function cifText(): string {
  const t = $<HTMLTextAreaElement>('cif-text').value;
  if (t.trim() === '') throw new Error('paste a CIF or choose a file first');
  return t;
}

// ------------------------------------------------------------------ benchmark datasets

let datasetList: { name: string; splits: string[] }[] = [];

function fillSplits(): void {
  const name = $<HTMLSelectElement>('ds-name').value;
  const splits = datasetList.find((d) => d.name === name)?.splits ?? [];
  $('ds-split').innerHTML = splits.map((s) => `<option value="${escapeHtml(s)}"${s === 'test' ? ' selected' : ''}>${escapeHtml(s)}</option>`).join('');
}

async function searchDataset(): Promise<void> {
  const msg = $('ds-msg');
  const list = $('ds-list');
  const name = $<HTMLSelectElement>('ds-name').value;
  const split = $<HTMLSelectElement>('ds-split').value;
  const formula = $<HTMLInputElement>('ds-formula').value.trim();
  msg.textContent = 'searching…';
  msg.className = 'msg';
  list.innerHTML = '';
  try {
    const page = await api.datasetPage(name, split, { limit: 10, ...(formula ? { formula } : {}) });
    msg.textContent = `${page.total} structure${page.total === 1 ? '' : 's'}${page.total > 10 ? ' (first 10)' : ''}`;
    for (const it of page.items) {
      const li = document.createElement('li');
      li.innerHTML = `<span title="${escapeHtml(it.id)}">${escapeHtml(it.formula)} · ${escapeHtml(it.id)}</span>
        <button type="button" class="v">View</button><button type="button" class="u" ${it.cif ? '' : 'disabled'}>Use as my CIF</button>`;
      li.querySelector('.v')!.addEventListener('click', () => {
        select({ kind: 'upload', structure: it.structure });
        $('viewer-title').textContent = `${name}/${split} ${it.id} (${it.formula})`;
        showStructure(it.structure);
        frames = [];
        setPlayer();
      });
      li.querySelector('.u')!.addEventListener('click', () => {
        $<HTMLTextAreaElement>('cif-text').value = it.cif ?? '';
        $('cif-result').textContent = `${it.id} loaded: press "Compare with selected" with a prediction in the viewer`;
        $('cif-result').className = 'msg';
      });
      list.appendChild(li);
    }
  } catch (err) {
    msg.textContent = (err as Error).message;
    msg.className = 'msg err';
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// ------------------------------------------------------------------ start-up

async function init(): Promise<void> {
  viewer = new CrystalViewer($('viewer'));
  $('predict-form').addEventListener('submit', (e) => void submit(e));
  $('generate-form').addEventListener('submit', (e) => void submitGenerate(e));
  $('tab-predict').addEventListener('click', () => setMode('predict'));
  $('tab-generate').addEventListener('click', () => setMode('generate'));
  for (const id of ['tab-predict', 'tab-generate']) {
    $(id).addEventListener('keydown', (e) => {
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') setMode(id === 'tab-predict' ? 'generate' : 'predict', true);
    });
  }
  $('gen-atoms').addEventListener('input', () => checkGenAtoms());
  $('gen-elements').addEventListener('input', () => checkGenElements());
  $('gen-model').addEventListener('change', showGenModelCard);
  $('formula').addEventListener('input', () => checkFormula());
  $('z').addEventListener('input', () => checkFormula());
  $<HTMLSelectElement>('repeat').addEventListener('change', (e) => viewer.setRepeat(Number((e.target as HTMLSelectElement).value)));
  $<HTMLInputElement>('velocities').addEventListener('change', (e) => viewer.setShowVelocities((e.target as HTMLInputElement).checked));
  $('reset-view').addEventListener('click', () => viewer.resetView());
  $('traj-play').addEventListener('click', togglePlay);
  $<HTMLInputElement>('traj-slider').addEventListener('input', (e) => {
    stop();
    showFrame(Number((e.target as HTMLInputElement).value));
  });
  $('cif-view').addEventListener('click', () => void viewCif());
  $('ds-name').addEventListener('change', fillSplits);
  $('ds-search').addEventListener('click', () => void searchDataset());
  $('ds-formula').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void searchDataset();
  });
  $('cif-compare').addEventListener('click', () => void compareCif());
  $<HTMLInputElement>('cif-file').addEventListener('change', async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) $<HTMLTextAreaElement>('cif-text').value = await file.text();
  });
  try {
    const h = await api.health();
    limits = h.limits;
    $('server-info').textContent = `kldm ${h.version} · up to ${limits.maxAtoms} atoms/cell, n ≤ ${limits.maxN}, steps ≤ ${limits.maxSteps}`;
    for (const [id, max] of [['n', limits.maxN], ['z', limits.maxZ], ['steps', limits.maxSteps], ['gen-n', limits.maxN], ['gen-steps', limits.maxSteps]] as const) {
      $<HTMLInputElement>(id).max = String(max);
    }
    for (const id of ['steps', 'gen-steps']) {
      const steps = $<HTMLInputElement>(id);
      if (Number(steps.value) > limits.maxSteps) steps.value = String(limits.maxSteps);
    }
    try {
      datasetList = (await api.datasets()).datasets;
      $('ds-name').innerHTML = datasetList.map((d) => `<option value="${escapeHtml(d.name)}">${escapeHtml(d.name)}</option>`).join('');
      fillSplits();
      // datasets are installed separately from kldm (docs/data.md); the server offers only installed ones
      if (datasetList.length === 0) $('ds-msg').textContent = 'no benchmark datasets installed on this server (install with: kldm data fetch perov_5)';
    } catch (err) {
      $('ds-msg').textContent = `datasets unavailable: ${(err as Error).message}`;
    }
    models = (await api.models()).models;
    for (const m of models) {
      const o = document.createElement('option');
      o.value = m.name;
      // a DNG model also predicts a given formula, with the types held fixed (docs/dng.md)
      o.textContent = m.task === 'dng' ? `${m.name} (DNG, fixed types)` : m.name;
      $('model').appendChild(o);
    }
    fillGenerateModels();
    if (models.length === 0) $('server-info').textContent += ' · no models installed';
    $('model').addEventListener('change', () => {
      const m = models.find((x) => x.name === $<HTMLSelectElement>('model').value);
      $('model-card').hidden = !m?.card;
      $('model-card-text').textContent = m?.card ?? '';
    });
  } catch (err) {
    $('server-info').textContent = `server unreachable: ${(err as Error).message}`;
  }
  await restoreJobs().catch(() => undefined);
  document.body.dataset.ready = 'true';
}

void init();
