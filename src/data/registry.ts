/**
 * The benchmark datasets shipped in the repository's data/ folder (copied from
 * the CDVAE/DiffCSP releases, see data/README.md for provenance and licences).
 *
 * The data root is found relative to this module (src/data/ or dist/data/ ->
 * ../../data), never relative to the working directory, so the installed
 * `kldm` command finds its data from anywhere. KLDM_DATA_DIR overrides it.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../util/errors.js';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface SplitInfo {
  split: SplitName;
  /** path of the gzipped CSV relative to the data root */
  file: string;
  /** number of data rows in the CSV */
  rows: number;
  /** sha256 of the uncompressed CSV (from data/README.md) */
  csvSha256: string;
  /** true for the MP-20 content reconstructions, which are not the original files */
  reconstructed: boolean;
}

export interface DatasetInfo {
  name: string;
  description: string;
  /** upper bound on atoms per cell in this dataset */
  maxAtoms: number;
  splits: SplitInfo[];
  /** splits of the original benchmark that are not in this repository */
  missingSplits: SplitName[];
  licence: string;
}

const DATASETS: DatasetInfo[] = [
  {
    name: 'perov_5',
    description: 'Perov-5: 18,928 cubic-perovskite-derived ABX3 crystals, 5 atoms per cell (Castelli et al. 2012), DiffCSP CSV version',
    maxAtoms: 5,
    splits: [
      { split: 'train', file: 'perov_5/train.csv.gz', rows: 11356, csvSha256: '6144a97ead4828a781a1c269c56fedc34b65945977c6433a055a720c47bf77f6', reconstructed: false },
      { split: 'val', file: 'perov_5/val.csv.gz', rows: 3787, csvSha256: 'efb9c832756439747f093e03a35daf073fcc9a5fc43a8a5292addee2f3d7ce90', reconstructed: false },
      { split: 'test', file: 'perov_5/test.csv.gz', rows: 3785, csvSha256: '2511340f0e08b25699e9386e100ae0b30cd9b9c8a5b29622c3533644e04c95fa', reconstructed: false },
    ],
    missingSplits: [],
    licence: 'MIT (DiffCSP, Copyright (c) 2023 Rui Jiao); data: Castelli et al. 2012, CMR',
  },
  {
    name: 'mp_20',
    description: 'MP-20: 45,229 Materials Project crystals with at most 20 atoms per cell; all three splits are content RECONSTRUCTIONS of the CDVAE CSVs (cif column exact, see data/README.md)',
    maxAtoms: 20,
    splits: [
      { split: 'train', file: 'mp_20/train.reconstructed.csv.gz', rows: 27136, csvSha256: 'a548ac3077c93075423ea0cd2807ae00e48422146879a8600a00abd4a743ed08', reconstructed: true },
      { split: 'val', file: 'mp_20/val.reconstructed-no-index.csv.gz', rows: 9047, csvSha256: 'daeb7f21ab0ea292a81aad3b8d41fe62f68f9645c034b26a384340853f78359a', reconstructed: true },
      { split: 'test', file: 'mp_20/test.reconstructed-no-index.csv.gz', rows: 9046, csvSha256: 'c8c606aa7d4c885c3acb28d6e320872fa32f572a23121c43361ebf3b213cae12', reconstructed: true },
    ],
    missingSplits: [],
    licence: 'MIT (CDVAE, Copyright (c) 2021 Tian Xie, Xiang Fu); data: Materials Project (Jain et al. 2013)',
  },
  {
    name: 'mpts_52',
    description: 'MPTS-52: Materials Project crystals with at most 52 atoms per cell, chronological split (Baird & Sparks mp-time-split); train split not available',
    maxAtoms: 52,
    splits: [
      { split: 'val', file: 'mpts_52/val.csv.gz', rows: 5000, csvSha256: 'b5d9f7a8ff72f3a1f24d6bb97e11ad201be40d10be7b27924234da06af04baba', reconstructed: false },
      { split: 'test', file: 'mpts_52/test.csv.gz', rows: 8096, csvSha256: '4d6e76c4726fb12fb2a7e5bb23594f9b82dbd9bf67b7bfd4866e9c74a8f49038', reconstructed: false },
    ],
    missingSplits: ['train'],
    licence: 'MIT (DiffCSP, Copyright (c) 2023 Rui Jiao); data: Materials Project via mp-time-split',
  },
  {
    name: 'carbon_24',
    description: 'Carbon-24: 10,153 carbon allotropes with at most 24 atoms per cell (Pickard 2020); train split not available',
    maxAtoms: 24,
    splits: [
      { split: 'val', file: 'carbon_24/val.csv.gz', rows: 2032, csvSha256: '36c00689cd63073c954a58bc6ed6e2adb7aeed5a630c994970959a1babffd50e', reconstructed: false },
      { split: 'test', file: 'carbon_24/test.csv.gz', rows: 2030, csvSha256: '386b17c08816f434818d51e46687bf72ff3f92348f3ba24823e4758f1fe8a969', reconstructed: false },
    ],
    missingSplits: ['train'],
    licence: 'MIT (CDVAE, Copyright (c) 2021 Tian Xie, Xiang Fu); data: Pickard 2020, Materials Cloud',
  },
];

/** Folder holding <dataset>/<split>.csv.gz: $KLDM_DATA_DIR, else the package's data/ folder. */
export function dataRoot(): string {
  const env = process.env['KLDM_DATA_DIR'];
  if (env && env.trim() !== '') return resolve(env);
  return fileURLToPath(new URL('../../data/', import.meta.url));
}

export function listDatasets(): DatasetInfo[] {
  return DATASETS.map((d) => ({ ...d, splits: d.splits.map((s) => ({ ...s })), missingSplits: [...d.missingSplits] }));
}

export function getDataset(name: string): DatasetInfo {
  const d = DATASETS.find((x) => x.name === name || x.name.replace('_', '-') === name.toLowerCase() || x.name.replace('_', '') === name.toLowerCase());
  if (!d) throw new InputError(`unknown dataset "${name}" (available: ${DATASETS.map((x) => x.name).join(', ')})`);
  return d;
}

export function getSplit(dataset: string, split: string): SplitInfo & { dataset: string; path: string } {
  const d = getDataset(dataset);
  const s = d.splits.find((x) => x.split === split);
  if (!s) {
    const missing = (d.missingSplits as string[]).includes(split);
    throw new InputError(
      missing
        ? `dataset ${d.name} has no ${split} split in this repository (the original file could not be obtained, see data/README.md); available: ${d.splits.map((x) => x.split).join(', ')}`
        : `unknown split "${split}" for ${d.name} (available: ${d.splits.map((x) => x.split).join(', ')})`,
    );
  }
  const path = join(dataRoot(), s.file);
  if (!existsSync(path)) throw new InputError(`data file ${path} is missing (set KLDM_DATA_DIR to the folder holding ${d.name}/)`);
  return { ...s, dataset: d.name, path };
}
