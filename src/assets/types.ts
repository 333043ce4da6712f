/**
 * Types of the asset registry: third-party files kldm installs on demand
 * (benchmark datasets, element tables, potential weights), each pinned by hash.
 */

export type AssetKind = 'dataset' | 'element-data' | 'potential';

/** Where a file lives upstream: a GitHub repository, pinned by commit and/or by the file's git blob id. */
export interface UpstreamFile {
  /** owner/name on GitHub */
  repo: string;
  /**
   * Commit the file is read at (abbreviated as recorded in the provenance notes).
   * Absent when only the blob id is known: the file is then fetched by blob id,
   * which pins its content just as firmly.
   */
  commit?: string;
  /** path of the file in the repository at that commit */
  path: string;
}

export interface AssetFile {
  /** file name inside the asset's folder, in the store and on a mirror */
  name: string;
  /**
   * What the file provides (a dataset split, a table, the weights). Files that
   * share a slot are alternatives (e.g. an upstream original and a mirror-only
   * reconstruction of the same split); listed in order of preference.
   */
  slot: string;
  /** size in bytes of the file as stored (absent when upstream publishes only its blob id) */
  bytes?: number;
  /** sha256 of the file as stored */
  sha256?: string;
  /** git blob id (`git hash-object`) of the file as stored: what GitHub trees record */
  gitBlob?: string;
  /** the original upstream; absent for files that exist only on a mirror */
  upstream?: UpstreamFile;
  /** present on a mirror laid out like ../shared (under the asset's mirrorDir) */
  onMirror: boolean;
  /** not needed for the asset to count as installed (e.g. a provenance sidecar) */
  optional?: boolean;
  /** 'original': the upstream bytes (possibly gzipped); 'reconstruction': rebuilt content, not the original file */
  variant: 'original' | 'reconstruction';
  /** for a gzipped copy: the decompressed content, as upstream publishes it */
  content?: { bytes: number; sha256: string; gitBlob?: string };
  /** one line on what this file is (provenance) */
  note?: string;
}

export interface Asset {
  name: string;
  kind: AssetKind;
  description: string;
  /** licence of the files (SPDX-like name and holder) */
  licence: string;
  /** what to cite when using the files */
  citation: string;
  /** folder of the asset on a mirror laid out like ../shared, e.g. data/perov_5 */
  mirrorDir: string;
  files: AssetFile[];
}
