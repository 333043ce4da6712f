/**
 * Where kldm keeps what it installs and what it derives:
 *   $KLDM_HOME (default ~/.cache/kldm)
 *     assets/<asset>/<file>        verified third-party files (only complete, verified files appear here)
 *     downloads/<asset>/<file>.part partial downloads, resumed by the next fetch
 *     cache/<dataset>/...          preprocessed dataset caches (rebuilt when missing or stale)
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function kldmHome(): string {
  const env = process.env['KLDM_HOME'];
  if (env && env.trim() !== '') return resolve(env);
  return join(homedir(), '.cache', 'kldm');
}

/** Folder of an installed asset. */
export function assetDir(asset: string): string {
  return join(kldmHome(), 'assets', asset);
}

/** Folder of partial downloads of an asset (same file system as the store, so a verified file is renamed in). */
export function downloadDir(asset: string): string {
  return join(kldmHome(), 'downloads', asset);
}

/** Folder of derived caches (e.g. preprocessed dataset splits): cache/<name>. */
export function derivedCacheDir(name: string): string {
  return join(kldmHome(), 'cache', name);
}
