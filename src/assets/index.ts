/**
 * Third-party assets (datasets, element tables, potential weights): registry,
 * store under $KLDM_HOME, fetching from upstream or a mirror, verification.
 *
 * For code that needs a file (see docs/data.md):
 *   assetPath('magpie', 'Number.table')          -> absolute path, or AssetNotInstalled naming the install command
 *   assetPath('m3gnet-mp-2021.2.8', 'state.pt')
 *   requireAsset('magpie').dir                   -> the folder holding all its files
 */
export type { Asset, AssetFile, AssetKind, UpstreamFile } from './types.js';
export { listAssets, getAsset, assetNames, requiredSlots, upstreamUrl } from './registry.js';
export { kldmHome, assetDir, derivedCacheDir } from './home.js';
export {
  assetPath, requireAsset, assetStatus, installedFile, installCommand, fetchAsset, verifyAsset, resolveSource, describeSource, partialDownloads,
  type InstalledAsset, type AssetStatus, type SlotState, type FetchOptions, type FetchReport, type FetchedFile, type FileCheck, type AssetSource,
} from './store.js';
export { downloadFile, type DownloadOptions, type DownloadResult } from './download.js';
export { digestFile, gitBlobOf, type FileDigest } from './hash.js';
export { AssetNotInstalled, ChecksumMismatch, DownloadHttpError, RedirectLoop, TruncatedDownload, NetworkUnavailable, NotOnSource } from './errors.js';
