/**
 * The benchmark datasets (CDVAE/DiffCSP splits). Their files are assets
 * (src/assets/registry.ts: hashes, upstream, licences; docs/data.md):
 * installed into $KLDM_HOME/assets/<dataset>/ by `kldm data fetch <dataset>`,
 * never shipped with the package. A split is read from whichever of its
 * files is installed: the upstream CSV or the mirror's gzipped copy (for
 * MP-20, the mirror's reconstruction).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { getAsset } from '../assets/registry.js';
import { installedFile, installCommand } from '../assets/store.js';
import { AssetNotInstalled } from '../assets/errors.js';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface SplitInfo {
  split: SplitName;
  /** number of data rows in the CSV */
  rows: number;
}

/** A split as installed in the asset store. */
export interface InstalledSplit extends SplitInfo {
  dataset: string;
  /** absolute path of the installed CSV (.csv or .csv.gz) */
  path: string;
  /** its file name in the asset folder */
  file: string;
  /** 'original': the upstream CSV's bytes; 'reconstruction': the MP-20 content reconstructions (docs/data.md) */
  variant: 'original' | 'reconstruction';
  reconstructed: boolean;
}

export interface DatasetInfo {
  name: string;
  description: string;
  /** upper bound on atoms per cell in this dataset */
  maxAtoms: number;
  splits: SplitInfo[];
  /** splits of the original benchmark that no known source provides */
  missingSplits: SplitName[];
  licence: string;
}

const DATASETS: DatasetInfo[] = [
  {
    name: 'perov_5',
    description: 'Perov-5: 18,928 cubic-perovskite-derived ABX3 crystals, 5 atoms per cell (Castelli et al. 2012), DiffCSP CSV version',
    maxAtoms: 5,
    splits: [
      { split: 'train', rows: 11356 },
      { split: 'val', rows: 3787 },
      { split: 'test', rows: 3785 },
    ],
    missingSplits: [],
    licence: 'MIT (DiffCSP, Copyright (c) 2023 Rui Jiao); data: Castelli et al. 2012, CMR',
  },
  {
    name: 'mp_20',
    description: 'MP-20: 45,229 Materials Project crystals with at most 20 atoms per cell; the mirror holds content RECONSTRUCTIONS of the CDVAE CSVs (cif column exact, see docs/data.md); the originals are known by hash',
    maxAtoms: 20,
    splits: [
      { split: 'train', rows: 27136 },
      { split: 'val', rows: 9047 },
      { split: 'test', rows: 9046 },
    ],
    missingSplits: [],
    licence: 'MIT (CDVAE, Copyright (c) 2021 Tian Xie, Xiang Fu); data: Materials Project (Jain et al. 2013)',
  },
  {
    name: 'mpts_52',
    description: 'MPTS-52: Materials Project crystals with at most 52 atoms per cell, chronological split (Baird & Sparks mp-time-split); train split not available',
    maxAtoms: 52,
    splits: [
      { split: 'val', rows: 5000 },
      { split: 'test', rows: 8096 },
    ],
    missingSplits: ['train'],
    licence: 'MIT (DiffCSP, Copyright (c) 2023 Rui Jiao); data: Materials Project via mp-time-split',
  },
  {
    name: 'carbon_24',
    description: 'Carbon-24: 10,153 carbon allotropes with at most 24 atoms per cell (Pickard 2020); train split not available',
    maxAtoms: 24,
    splits: [
      { split: 'val', rows: 2032 },
      { split: 'test', rows: 2030 },
    ],
    missingSplits: ['train'],
    licence: 'MIT (CDVAE, Copyright (c) 2021 Tian Xie, Xiang Fu); data: Pickard 2020, Materials Cloud',
  },
];


export function listDatasets(): DatasetInfo[] {
  return DATASETS.map((d) => ({ ...d, splits: d.splits.map((s) => ({ ...s })), missingSplits: [...d.missingSplits] }));
}

export function getDataset(name: string): DatasetInfo {
  const d = DATASETS.find((x) => x.name === name || x.name.replace('_', '-') === name.toLowerCase() || x.name.replace('_', '') === name.toLowerCase());
  if (!d) throw new InputError(`unknown dataset "${name}" (available: ${DATASETS.map((x) => x.name).join(', ')})`);
  return d;
}

/**
 * KLDM_DATA_DIR: a folder laid out like the mirror's data/ (<dataset>/<file>)
 * whose files are used instead of the store, as they are (for tests and for
 * trying a modified copy of a split). Unset, the store is used.
 */
export function dataDirOverride(): string | undefined {
  const env = process.env['KLDM_DATA_DIR'];
  return env && env.trim() !== '' ? resolve(env) : undefined;
}

/**
 * The installed CSV of a split. A split missing from the store is an
 * AssetNotInstalled error naming the command that installs it
 * (`kldm data fetch <dataset>`).
 */
export function getSplit(dataset: string, split: string): InstalledSplit {
  const d = getDataset(dataset);
  const s = d.splits.find((x) => x.split === split);
  if (!s) {
    const missing = (d.missingSplits as string[]).includes(split);
    throw new InputError(
      missing
        ? `dataset ${d.name} has no ${split} split (the original file could not be obtained, see docs/data.md); available: ${d.splits.map((x) => x.split).join(', ')}`
        : `unknown split "${split}" for ${d.name} (available: ${d.splits.map((x) => x.split).join(', ')})`,
    );
  }
  const override = dataDirOverride();
  if (override !== undefined) {
    // Development/testing override: files are read as they are, without the store's verification.
    const files = getAsset(d.name).files.filter((f) => f.slot === split);
    const f = files.find((x) => existsSync(join(override, d.name, x.name)));
    if (!f) throw new InputError(`KLDM_DATA_DIR=${override} has no ${files.map((x) => `${d.name}/${x.name}`).join(' or ')} (unset KLDM_DATA_DIR to use the asset store)`);
    return { ...s, dataset: d.name, path: join(override, d.name, f.name), file: f.name, variant: f.variant, reconstructed: f.variant === 'reconstruction' };
  }
  const hit = installedFile(d.name, split);
  if (!hit) throw new AssetNotInstalled(d.name, `dataset ${d.name} (${split} split)`, installCommand(d.name));
  return { ...s, dataset: d.name, path: hit.path, file: hit.file.name, variant: hit.file.variant, reconstructed: hit.file.variant === 'reconstruction' };
}

/** The installed file of a split, or undefined (no error): for listings. */
export function installedSplit(dataset: string, split: string): InstalledSplit | undefined {
  try {
    return getSplit(dataset, split);
  } catch (err) {
    if (err instanceof AssetNotInstalled) return undefined;
    throw err;
  }
}
