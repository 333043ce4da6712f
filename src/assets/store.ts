/**
 * The asset store: what is installed under $KLDM_HOME/assets, installing from
 * upstream or from a mirror, verification, and the small API the rest of kldm
 * uses to find its files (`requireAsset`, `assetPath`).
 *
 * Invariant: a file appears under assets/<asset>/ only after its size and
 * hashes matched the registry (it is written to downloads/<asset>/<file>.part,
 * verified, then renamed), so "the file exists" means "the file is verified".
 * `kldm assets verify` re-hashes everything to catch later damage.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { InputError, KldmError, errorMessage } from '../util/errors.js';
import { Progress, formatBytes } from '../util/progress.js';
import type { Asset, AssetFile } from './types.js';
import { getAsset, listAssets, requiredSlots, upstreamUrl } from './registry.js';
import { assetDir, downloadDir } from './home.js';
import { digestFile, digestGunzipped, type FileDigest } from './hash.js';
import { downloadFile } from './download.js';
import { AssetNotInstalled, ChecksumMismatch, NotOnSource } from './errors.js';

/** Where files come from: the upstream repositories, a local mirror folder, or a mirror served over HTTP. */
export type AssetSource = { kind: 'upstream' } | { kind: 'mirror-dir'; dir: string } | { kind: 'mirror-url'; base: string };

/**
 * The source named by `from` (a folder or an http(s) URL laid out like the
 * shared mirror: data/<dataset>/..., reference/magpie/..., reference/m3gnet/...),
 * else $KLDM_MIRROR, else upstream. `from: 'upstream'` forces upstream.
 */
export function resolveSource(from?: string): AssetSource {
  const spec = from ?? (process.env['KLDM_MIRROR']?.trim() || undefined);
  if (spec === undefined || spec === 'upstream') return { kind: 'upstream' };
  if (/^https?:\/\//i.test(spec)) return { kind: 'mirror-url', base: spec.replace(/\/+$/, '') };
  const dir = isAbsolute(spec) ? spec : resolve(spec);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(`mirror folder ${dir} does not exist (--from / KLDM_MIRROR must name a folder laid out like data/<dataset>/..., reference/magpie/..., or an http(s) URL)`);
  }
  return { kind: 'mirror-dir', dir };
}

export function describeSource(s: AssetSource): string {
  return s.kind === 'upstream' ? 'upstream (GitHub)' : s.kind === 'mirror-dir' ? `mirror ${s.dir}` : `mirror ${s.base}`;
}

/** The command that installs an asset (datasets have the `kldm data fetch` alias). */
export function installCommand(name: string): string {
  return getAsset(name).kind === 'dataset' ? `kldm data fetch ${name}` : `kldm assets fetch ${name}`;
}

function storedPath(asset: Asset, file: AssetFile): string {
  return join(assetDir(asset.name), file.name);
}

/** A file counts as installed when it exists with the registry's size (hashes were checked when it was installed). */
function isInstalled(asset: Asset, file: AssetFile): boolean {
  const p = storedPath(asset, file);
  if (!existsSync(p)) return false;
  return file.bytes === undefined || statSync(p).size === file.bytes;
}

export interface SlotState {
  slot: string;
  optional: boolean;
  /** the installed file filling the slot (the first installed one in order of preference) */
  file?: AssetFile;
  path?: string;
}

export interface AssetStatus {
  asset: Asset;
  dir: string;
  /** every required slot is filled */
  installed: boolean;
  slots: SlotState[];
  /** bytes of the installed files */
  bytesInstalled: number;
}

function slotsOf(asset: Asset): string[] {
  const out: string[] = [];
  for (const f of asset.files) if (!out.includes(f.slot)) out.push(f.slot);
  return out;
}

/** The installed file of one slot of an asset, if any. */
export function installedFile(name: string, slot: string): { file: AssetFile; path: string } | undefined {
  const asset = getAsset(name);
  for (const f of asset.files) if (f.slot === slot && isInstalled(asset, f)) return { file: f, path: storedPath(asset, f) };
  return undefined;
}

export function assetStatus(name: string): AssetStatus {
  const asset = getAsset(name);
  const required = requiredSlots(asset);
  const slots: SlotState[] = slotsOf(asset).map((slot) => {
    const hit = asset.files.find((f) => f.slot === slot && isInstalled(asset, f));
    return { slot, optional: !required.includes(slot), ...(hit ? { file: hit, path: storedPath(asset, hit) } : {}) };
  });
  const bytesInstalled = slots.reduce((n, s) => n + (s.path ? statSync(s.path).size : 0), 0);
  return { asset, dir: assetDir(asset.name), installed: slots.every((s) => s.optional || s.file), slots, bytesInstalled };
}

export interface InstalledAsset {
  name: string;
  /** the asset's folder in the store */
  dir: string;
  /** absolute path of each installed file, by slot (for single files the slot is the file name) */
  files: Record<string, string>;
}

/**
 * The installed asset, or an AssetNotInstalled error whose message names the
 * command that installs it. Cheap (no hashing): use it on every run.
 */
export function requireAsset(name: string): InstalledAsset {
  const st = assetStatus(name);
  const missing = st.slots.filter((s) => !s.optional && !s.file).map((s) => s.slot);
  if (missing.length > 0) {
    const what = missing.length === st.slots.filter((s) => !s.optional).length ? `asset ${name}` : `asset ${name} (${missing.join(', ')})`;
    throw new AssetNotInstalled(name, what, installCommand(name));
  }
  const files: Record<string, string> = {};
  for (const s of st.slots) if (s.path) files[s.slot] = s.path;
  return { name, dir: st.dir, files };
}

/**
 * Absolute path of one installed file of an asset: `file` is a slot (a split
 * name such as "train", or a file name such as "Number.table" or "state.pt").
 * Throws AssetNotInstalled (naming the install command) when it is not installed.
 */
export function assetPath(name: string, file: string): string {
  const asset = getAsset(name);
  const slot = asset.files.find((f) => f.slot === file || f.name === file)?.slot;
  if (slot === undefined) throw new InputError(`asset ${name} has no file "${file}" (files: ${slotsOf(asset).join(', ')})`);
  const hit = installedFile(name, slot);
  if (!hit) throw new AssetNotInstalled(name, `${file} of asset ${name}`, installCommand(name));
  return hit.path;
}

// ---------------------------------------------------------------- verification

/** What differs between a file's digest and the registry, or undefined when it matches. */
function mismatch(file: AssetFile, d: FileDigest): { expected: string; actual: string } | undefined {
  if (file.bytes !== undefined && d.bytes !== file.bytes) return { expected: `${file.bytes} bytes`, actual: `${d.bytes} bytes` };
  if (file.sha256 && d.sha256 !== file.sha256) return { expected: `sha256 ${file.sha256}`, actual: `sha256 ${d.sha256}` };
  if (file.gitBlob && d.gitBlob !== file.gitBlob) return { expected: `git blob ${file.gitBlob}`, actual: `git blob ${d.gitBlob}` };
  return undefined;
}

export interface FileCheck {
  asset: string;
  file: string;
  path: string;
  ok: boolean;
  /** what was checked, or what is wrong */
  detail: string;
}

/** Re-hashes every installed file of an asset (and the decompressed content of gzipped copies). */
export async function verifyAsset(name: string): Promise<FileCheck[]> {
  const asset = getAsset(name);
  const out: FileCheck[] = [];
  for (const f of asset.files) {
    const path = storedPath(asset, f);
    if (!existsSync(path)) continue;
    const d = await digestFile(path);
    const bad = mismatch(f, d);
    if (bad) {
      out.push({ asset: name, file: f.name, path, ok: false, detail: `expected ${bad.expected}, found ${bad.actual}` });
      continue;
    }
    let detail = [f.sha256 ? 'sha256' : '', f.gitBlob ? 'git blob' : ''].filter(Boolean).join(' + ') + ' ok';
    if (f.content) {
      try {
        const c = await digestGunzipped(path, Boolean(f.content.gitBlob));
        const cbad = c.bytes !== f.content.bytes ? `${c.bytes} bytes (expected ${f.content.bytes})`
          : c.sha256 !== f.content.sha256 ? `sha256 ${c.sha256} (expected ${f.content.sha256})`
            : f.content.gitBlob && c.gitBlob !== f.content.gitBlob ? `git blob ${c.gitBlob} (expected ${f.content.gitBlob})` : undefined;
        if (cbad) {
          out.push({ asset: name, file: f.name, path, ok: false, detail: `decompressed content: ${cbad}` });
          continue;
        }
        detail += `; decompressed CSV sha256${f.content.gitBlob ? ' + git blob' : ''} ok`;
      } catch (err) {
        out.push({ asset: name, file: f.name, path, ok: false, detail: `cannot decompress: ${errorMessage(err)}` });
        continue;
      }
    }
    out.push({ asset: name, file: f.name, path, ok: true, detail });
  }
  return out;
}

// ---------------------------------------------------------------- installing

export interface FetchOptions {
  /** a mirror folder or URL; default $KLDM_MIRROR, else upstream */
  from?: string;
  /** no progress lines */
  quiet?: boolean;
  /** resumed attempts after a cut connection (default 3) */
  retries?: number;
  /** where progress and notes go (default stderr) */
  stream?: NodeJS.WriteStream;
}

export interface FetchedFile {
  file: string;
  slot: string;
  /** 'installed' (fetched and verified now) or 'present' (already installed) */
  action: 'installed' | 'present';
  bytes: number;
  from?: string;
}

export interface FetchReport {
  asset: string;
  source: string;
  files: FetchedFile[];
  /** optional files the source does not provide */
  skipped: string[];
}

function candidateOn(source: AssetSource, file: AssetFile): boolean {
  return source.kind === 'upstream' ? file.upstream !== undefined : file.onMirror;
}

function sourceLocation(source: AssetSource, asset: Asset, file: AssetFile): string {
  if (source.kind === 'upstream') return upstreamUrl(file);
  if (source.kind === 'mirror-dir') return join(source.dir, asset.mirrorDir, file.name);
  return `${source.base}/${asset.mirrorDir}/${file.name}`;
}

/** Fetches one file into its partial file, verifies it and renames it into the store. */
async function installFile(asset: Asset, file: AssetFile, source: AssetSource, opts: FetchOptions): Promise<FetchedFile> {
  const from = sourceLocation(source, asset, file);
  const part = join(downloadDir(asset.name), `${file.name}.part`);
  mkdirSync(downloadDir(asset.name), { recursive: true });
  if (source.kind === 'mirror-dir') {
    copyFileSync(from, part);
  } else {
    const stream = opts.stream ?? process.stderr;
    let progress: Progress | undefined;
    // bytes of an earlier partial download: shown in the count, left out of the rate and ETA
    const already = existsSync(part) ? statSync(part).size : 0;
    const headers: Record<string, string> = from.startsWith('https://api.github.com/') ? { Accept: 'application/vnd.github.raw' } : {};
    await downloadFile(from, part, {
      headers,
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      onProgress: (received, total) => {
        progress ??= new Progress({ label: `${asset.name}/${file.name}`, total: total ?? file.bytes ?? 0, quiet: opts.quiet ?? false, stream, formatAmount: formatBytes, initial: already });
        progress.update(received);
      },
    });
    progress?.finish();
  }
  const d = await digestFile(part);
  const bad = mismatch(file, d);
  if (bad) {
    rmSync(part, { force: true });
    throw new ChecksumMismatch(`${asset.name}/${file.name}`, from, bad.expected, bad.actual);
  }
  mkdirSync(assetDir(asset.name), { recursive: true });
  renameSync(part, storedPath(asset, file));
  try {
    rmdirSync(downloadDir(asset.name)); // only succeeds when no other partial download is left
  } catch {
    // not empty: other partial files stay for resuming
  }
  return { file: file.name, slot: file.slot, action: 'installed', bytes: d.bytes, from };
}

/**
 * Installs every missing slot of an asset from `opts.from` (a mirror folder or
 * URL), $KLDM_MIRROR, or upstream. Already installed files are left alone, so
 * a second call is a cheap no-op. Throws on the first failure (nothing
 * unverified is left in the store; partial downloads are kept for resuming).
 */
export async function fetchAsset(name: string, opts: FetchOptions = {}): Promise<FetchReport> {
  const asset = getAsset(name);
  const source = resolveSource(opts.from);
  const report: FetchReport = { asset: name, source: describeSource(source), files: [], skipped: [] };
  const required = requiredSlots(asset);
  for (const slot of slotsOf(asset)) {
    const have = installedFile(name, slot);
    if (have) {
      report.files.push({ file: have.file.name, slot, action: 'present', bytes: statSync(have.path).size });
      continue;
    }
    let candidates = asset.files.filter((f) => f.slot === slot && candidateOn(source, f));
    if (source.kind === 'mirror-dir') candidates = candidates.filter((f) => existsSync(sourceLocation(source, asset, f)));
    if (candidates.length === 0) {
      if (!required.includes(slot)) {
        report.skipped.push(slot);
        continue;
      }
      const names = asset.files.filter((f) => f.slot === slot);
      const where = source.kind === 'upstream'
        ? `no upstream copy is known (it exists only on a mirror: ${names.map((f) => `${asset.mirrorDir}/${f.name}`).join(', ')}); install it with --from <mirror dir>`
        : `${describeSource(source)} has no ${names.filter((f) => f.onMirror).map((f) => `${asset.mirrorDir}/${f.name}`).join(' or ') || 'copy of it'}` +
          (names.some((f) => f.upstream) ? ' (it can be fetched from upstream: leave out --from and unset KLDM_MIRROR)' : '');
      throw new NotOnSource(`asset ${name}: ${slot}: ${where}`);
    }
    // Several candidates only happen for an HTTP mirror or upstream; the first that works wins,
    // except that a checksum mismatch is never papered over by an alternative.
    let lastError: unknown;
    let done = false;
    for (const f of candidates) {
      try {
        report.files.push(await installFile(asset, f, source, opts));
        done = true;
        break;
      } catch (err) {
        if (err instanceof ChecksumMismatch || !(err instanceof KldmError)) throw err;
        lastError = err;
      }
    }
    if (!done) throw lastError;
  }
  return report;
}

/** Names of assets with leftover partial downloads (shown by `kldm assets list`). */
export function partialDownloads(name: string): string[] {
  const dir = downloadDir(name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.part'));
}

export { listAssets };
