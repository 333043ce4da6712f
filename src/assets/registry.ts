/**
 * The registry of third-party assets: every file kldm may install, with its
 * size, hashes, upstream (repository pinned by commit or blob id), licence and
 * citation. Values come from the provenance records of the data mirror
 * (shared/data/README.md, shared/reference/{magpie,m3gnet}/README.md), and the
 * sizes/sha256 of the mirror's gzipped copies were measured on those files;
 * docs/data.md explains each entry.
 *
 * Dataset files: the mirror holds `gzip -9 -n` copies (the CSV bytes unchanged;
 * their decompressed identity is `content`); upstream serves the plain CSVs,
 * which are stored as they come (`<split>.csv`). Either form is a valid
 * install of the split.
 */
import type { Asset, AssetFile, UpstreamFile } from './types.js';
import { InputError } from '../util/errors.js';

const CDVAE = 'txie-93/cdvae';
const CDVAE_COMMIT = 'f857f598';
const DIFFCSP = 'jiaor17/DiffCSP';

interface MirrorCopy {
  name: string;
  bytes: number;
  sha256: string;
  content: { bytes: number; sha256: string; gitBlob?: string };
  variant?: 'original' | 'reconstruction';
  note?: string;
}

interface UpstreamCopy extends UpstreamFile {
  name: string;
  bytes?: number;
  sha256?: string;
  gitBlob: string;
  note?: string;
}

/** A split: its upstream original (when it can be fetched) and the mirror's copy, in order of preference. */
function split(slot: string, mirror: MirrorCopy | undefined, upstream: UpstreamCopy | undefined): AssetFile[] {
  const files: AssetFile[] = [];
  if (upstream) {
    const { name, bytes, sha256, gitBlob, note, ...where } = upstream;
    files.push({
      name, slot, gitBlob, upstream: where, onMirror: false, variant: 'original',
      ...(bytes !== undefined ? { bytes } : {}), ...(sha256 !== undefined ? { sha256 } : {}), ...(note !== undefined ? { note } : {}),
    });
  }
  if (mirror) {
    const { variant, note, ...rest } = mirror;
    files.push({ ...rest, slot, onMirror: true, variant: variant ?? 'original', ...(note !== undefined ? { note } : {}) });
  }
  return files;
}

const PEROV_5: Asset = {
  name: 'perov_5',
  kind: 'dataset',
  description: 'Perov-5 benchmark splits (DiffCSP CSVs): 18,928 perovskite-derived ABX3 crystals, 5 atoms per cell',
  licence: 'MIT (DiffCSP, Copyright (c) 2023 Rui Jiao; same rows as CDVAE, Copyright (c) 2021 Tian Xie, Xiang Fu)',
  citation: 'Castelli et al., Energy Environ. Sci. 5, 9034 (2012); Xie et al., CDVAE, ICLR 2022; Jiao et al., DiffCSP, NeurIPS 2023',
  mirrorDir: 'data/perov_5',
  files: [
    ...split(
      'train',
      { name: 'train.csv.gz', bytes: 1773567, sha256: '42c3888740e27a4c55729ea6607199746f85c7d0521aa84b62abebeee70fbeba', content: { bytes: 21695296, sha256: '6144a97ead4828a781a1c269c56fedc34b65945977c6433a055a720c47bf77f6', gitBlob: '62ce91686595d45d484d026bbfd14c2518b66abd' } },
      { name: 'train.csv', repo: DIFFCSP, path: 'data/perov_5/train.csv', bytes: 21695296, sha256: '6144a97ead4828a781a1c269c56fedc34b65945977c6433a055a720c47bf77f6', gitBlob: '62ce91686595d45d484d026bbfd14c2518b66abd' },
    ),
    ...split(
      'val',
      { name: 'val.csv.gz', bytes: 591614, sha256: 'f94f4139bbbaba539fa587b4793c2b8474de21ee58a521d61597921297931deb', content: { bytes: 7233118, sha256: 'efb9c832756439747f093e03a35daf073fcc9a5fc43a8a5292addee2f3d7ce90', gitBlob: '872fc814e6a513024cb923a0576d723fca25969c' } },
      { name: 'val.csv', repo: DIFFCSP, path: 'data/perov_5/val.csv', bytes: 7233118, sha256: 'efb9c832756439747f093e03a35daf073fcc9a5fc43a8a5292addee2f3d7ce90', gitBlob: '872fc814e6a513024cb923a0576d723fca25969c' },
    ),
    ...split(
      'test',
      { name: 'test.csv.gz', bytes: 590551, sha256: '97d70ec6a4aed36db3d56ecd6a2ecc0b8a193fdd57b0ffbf18ead750a30c6f25', content: { bytes: 7229328, sha256: '2511340f0e08b25699e9386e100ae0b30cd9b9c8a5b29622c3533644e04c95fa', gitBlob: 'cb97501bed31c8cdcb603f9b9c3a59842828c9d8' } },
      { name: 'test.csv', repo: DIFFCSP, path: 'data/perov_5/test.csv', bytes: 7229328, sha256: '2511340f0e08b25699e9386e100ae0b30cd9b9c8a5b29622c3533644e04c95fa', gitBlob: 'cb97501bed31c8cdcb603f9b9c3a59842828c9d8' },
    ),
  ],
};

const MP_20_RECONSTRUCTION = 'content reconstruction, not the original CSV: cif column exact and in the original order, some other columns partly empty (docs/data.md)';
const MP_20: Asset = {
  name: 'mp_20',
  kind: 'dataset',
  description: 'MP-20 benchmark splits (CDVAE): 45,229 Materials Project crystals with at most 20 atoms per cell',
  licence: 'MIT (CDVAE, Copyright (c) 2021 Tian Xie, Xiang Fu); data: Materials Project (CC BY 4.0)',
  citation: 'Jain et al., APL Mater. 1, 011002 (2013); Xie et al., CDVAE, ICLR 2022',
  mirrorDir: 'data/mp_20',
  files: [
    // The upstream originals are known by hash only (no reachable copy was found for the mirror);
    // the mirror holds reconstructions under other names.
    ...split(
      'train',
      { name: 'train.reconstructed.csv.gz', bytes: 5530785, sha256: '00e5315b981c0e1aea740a2765911f5ab2a47c63bc983f14053f8ad06e999388', content: { bytes: 34432137, sha256: 'a548ac3077c93075423ea0cd2807ae00e48422146879a8600a00abd4a743ed08' }, variant: 'reconstruction', note: MP_20_RECONSTRUCTION },
      { name: 'train.csv', repo: CDVAE, commit: CDVAE_COMMIT, path: 'data/mp_20/train.csv', sha256: '133bab58dba02d316f9f91174839f17802dce648be4e8659d1a42b32b97fa01d', gitBlob: 'b1c9d498565ac2fd8d075a51ff2ef5e51ba6c21f' },
    ),
    ...split(
      'val',
      { name: 'val.reconstructed-no-index.csv.gz', bytes: 1902430, sha256: 'dfb6e62507bbfc278fd84cdd2479f4d11eb093295a359dd8bbb4676dd8a3203f', content: { bytes: 11565256, sha256: 'daeb7f21ab0ea292a81aad3b8d41fe62f68f9645c034b26a384340853f78359a' }, variant: 'reconstruction', note: `${MP_20_RECONSTRUCTION}; no leading index column` },
      { name: 'val.csv', repo: CDVAE, commit: CDVAE_COMMIT, path: 'data/mp_20/val.csv', gitBlob: '7efe4d7ebeb4f460ceaad35e5326c42111d9c9a1' },
    ),
    ...split(
      'test',
      { name: 'test.reconstructed-no-index.csv.gz', bytes: 1890846, sha256: 'b6ae65e58a8fbe596a18df00701784f2d0ea87bab717de14a197b51064ecbcfa', content: { bytes: 11547110, sha256: 'c8c606aa7d4c885c3acb28d6e320872fa32f572a23121c43361ebf3b213cae12' }, variant: 'reconstruction', note: `${MP_20_RECONSTRUCTION}; no leading index column` },
      { name: 'test.csv', repo: CDVAE, commit: CDVAE_COMMIT, path: 'data/mp_20/test.csv', gitBlob: '5dc643041df53f5ce4970a79930ad262b4f07acd' },
    ),
    {
      name: 'train.reconstructed.provenance.csv.gz', slot: 'train-provenance', bytes: 85382, sha256: '77546f70c673e8b5fe7ca0563bdbed82fbf9575d09afea091c37bdfbfe366961',
      content: { bytes: 2072758, sha256: '05a692e2d90bc2e07136c57d9518db69ef1ffb23625bb93157dd10e7d39b20f5' },
      onMirror: true, optional: true, variant: 'reconstruction', note: 'per-row source of each value of the train reconstruction',
    },
  ],
};

const MPTS_52: Asset = {
  name: 'mpts_52',
  kind: 'dataset',
  description: 'MPTS-52 benchmark val/test splits (DiffCSP): Materials Project crystals with at most 52 atoms, chronological split; the train split could not be obtained',
  licence: 'MIT (DiffCSP, Copyright (c) 2023 Rui Jiao); data: Materials Project (CC BY 4.0) via mp-time-split',
  citation: 'Jain et al., APL Mater. 1, 011002 (2013); Baird et al., mp-time-split (matbench-genmetrics), JOSS 2024; Jiao et al., DiffCSP, NeurIPS 2023',
  mirrorDir: 'data/mpts_52',
  files: [
    ...split(
      'val',
      { name: 'val.csv.gz', bytes: 1878628, sha256: '3231ce7b3851301762170881f3b4f144658145ee65c9551eac448593f1eab5e1', content: { bytes: 9941357, sha256: 'b5d9f7a8ff72f3a1f24d6bb97e11ad201be40d10be7b27924234da06af04baba', gitBlob: 'a377ba0ca7bee37ee69d9f50f8362eaa35d9f690' } },
      { name: 'val.csv', repo: DIFFCSP, path: 'data/mpts_52/val.csv', bytes: 9941357, sha256: 'b5d9f7a8ff72f3a1f24d6bb97e11ad201be40d10be7b27924234da06af04baba', gitBlob: 'a377ba0ca7bee37ee69d9f50f8362eaa35d9f690' },
    ),
    ...split(
      'test',
      { name: 'test.csv.gz', bytes: 3110210, sha256: '227613453d1bf09fa25510385d90031a8b8f05d1b6f65516f02918c3784af104', content: { bytes: 16358482, sha256: '4d6e76c4726fb12fb2a7e5bb23594f9b82dbd9bf67b7bfd4866e9c74a8f49038', gitBlob: '2e8af159618f63be346b6527f155514323964423' } },
      { name: 'test.csv', repo: DIFFCSP, path: 'data/mpts_52/test.csv', bytes: 16358482, sha256: '4d6e76c4726fb12fb2a7e5bb23594f9b82dbd9bf67b7bfd4866e9c74a8f49038', gitBlob: '2e8af159618f63be346b6527f155514323964423' },
    ),
  ],
};

const CARBON_24: Asset = {
  name: 'carbon_24',
  kind: 'dataset',
  description: 'Carbon-24 benchmark val/test splits (CDVAE): carbon allotropes with at most 24 atoms per cell; the train split could not be obtained',
  licence: 'MIT (CDVAE, Copyright (c) 2021 Tian Xie, Xiang Fu); data: Pickard 2020, Materials Cloud (CC BY 4.0)',
  citation: 'Pickard, AIRSS data for carbon at 10 GPa, Materials Cloud Archive 2020.0026 (2020); Xie et al., CDVAE, ICLR 2022',
  mirrorDir: 'data/carbon_24',
  files: [
    ...split(
      'val',
      { name: 'val.csv.gz', bytes: 465475, sha256: 'bf1d3e91bbd70e0c84b3be67c19ddcc796331b797a08a9e275691a3b7a564dec', content: { bytes: 2321923, sha256: '36c00689cd63073c954a58bc6ed6e2adb7aeed5a630c994970959a1babffd50e', gitBlob: 'b3e29b927883642426ca1d9632d00359b412742b' } },
      { name: 'val.csv', repo: CDVAE, commit: CDVAE_COMMIT, path: 'data/carbon_24/val.csv', bytes: 2321923, sha256: '36c00689cd63073c954a58bc6ed6e2adb7aeed5a630c994970959a1babffd50e', gitBlob: 'b3e29b927883642426ca1d9632d00359b412742b' },
    ),
    ...split(
      'test',
      { name: 'test.csv.gz', bytes: 464674, sha256: 'f51a69674f1d15fb06fa8be60f09abbda60283f77fd1a21d44d6ec2c9a039f65', content: { bytes: 2319350, sha256: '386b17c08816f434818d51e46687bf72ff3f92348f3ba24823e4758f1fe8a969', gitBlob: '9beca843fde489de1fe288b32f9e3ff710d42803' } },
      { name: 'test.csv', repo: CDVAE, commit: CDVAE_COMMIT, path: 'data/carbon_24/test.csv', bytes: 2319350, sha256: '386b17c08816f434818d51e46687bf72ff3f92348f3ba24823e4758f1fe8a969', gitBlob: '9beca843fde489de1fe288b32f9e3ff710d42803' },
    ),
  ],
};

const MATMINER = 'hackingmaterials/matminer';
const MATMINER_COMMIT = '8ddb18c74064ab3668d7b5aed7c360abdfdae5de';
const MAGPIE_DIR = 'src/matminer/utils/data_files/magpie_elementdata';

/** [property, bytes, sha256, git blob]: the 22 tables of matminer's "magpie" preset, in its feature order. */
const MAGPIE_TABLES: ReadonlyArray<readonly [string, number, string, string]> = [
  ['Number', 676, '8fc501dc139d079d940dfeb1e9e56b2b32a9f935fc11d1eaac409ae2947ba045', '95e7ebd83c5feb27624d65cbeb801aced9ade9ce'],
  ['MendeleevNumber', 694, '0169c98f87bc2069239122e122cbee13d95097e60debdf281b2202e6b785bf83', '54d4d18e028b95e44efe8758bff79ade108c7f7f'],
  ['AtomicWeight', 1132, '8ce536156435dbf45f41ae91d96a2bff8139dbec8bbf0f74bfc412db9cfd7049', '6de900d7e9d07ddbfaca4cd8b67a9047c0020069'],
  ['MeltingT', 958, 'd5d52d5292dd9788bd326543a1f33219b34c141b863d5594ca212ca63205f02f', 'e36d701aafc514a340928736100a55809f59bc6d'],
  ['Column', 603, '8f74e08e661510c6623dda8ea18e191ad82186d6a23559a79555c4e59e06a24e', 'b70f4787a79bc2e268777adf8b9cb6c2db968202'],
  ['Row', 560, 'a6e0f8a4fd85b4cb74dd57a35513d2f348d054b056b6f781c8da6803c86c961c', 'f8b9cdca5b0bd0f7e64867635b00489bb37cf33c'],
  ['CovalentRadius', 807, 'a291a255ae3a9fef4f73a9cd873fb1aba482066b1e1f373477c5b164c910d8dc', 'b67e57180972f6f55d169fb497d91b76b035573a'],
  ['Electronegativity', 870, 'c1801e33c604750c4d7e93765fa008c7f7e501ddbf328a0b180af42cc088f64b', 'a689c21dd4302c0558f6bd31f2c6deabf779b479'],
  ['NsValence', 560, '71b75922317cb942599b198fb26155dfb5cadcfe45d08a28361997dec03a663e', '522ded7ead515a0f8d78428dedbb461d27bcf61a'],
  ['NpValence', 560, 'f4984b992230957bdd90ee7e1d83232966928840aec0a3e0d917148ceadc5817', 'c7486dd42e8b40ddb76cc176459cc4d4024c1161'],
  ['NdValence', 587, 'b9a3f4ee220653c1d955aec3e1158a10dc2cd69258a2de5571e4aebd670234f0', '2e2d98d75eb1dbbfbf642088578e798b02de3059'],
  ['NfValence', 596, '80869e70654b4151c6be142847f56de1966323685071c21a1bbcd16437d2a2e2', 'a9f6d7ae268afe7875afcd3ebb1c47883b4f913c'],
  ['NValence', 618, 'a5dc833fd5f660d233cc752fece5501a81d61ad69120ee3736cd059979047b4b', '338a444c4151070ffc157257abbf7f8d8ae257b9'],
  ['NsUnfilled', 560, 'bbdfa61b8a94af91763255315f3040aa4afa0e3acae56a45e9ade8a8bab03c8f', 'ba68d2492c10b332de231c556f7e36987e8a9f92'],
  ['NpUnfilled', 560, 'b810d9973da04e3b840d94d9dbdf8a96f0e49a6610ae1fffeed48a244ee8e8b9', '1d20cc2fd25d312e28a6a925d73db90a77a3e1aa'],
  ['NdUnfilled', 560, '63ae6f8c059d282822359092324714908a7438bde7a18f4b50545dc9a5d1cc3b', '9297cfa18bb953b672354ab89149f922e8f7ce1c'],
  ['NfUnfilled', 566, '99439efb794eae0b974838b065fdc31fc1f81242a1086df6a3c38dd22182619d', '82336cff10350d1bc88687e2da5169013b72d2b0'],
  ['NUnfilled', 568, 'bbece39935e94c5f8b9636b3d5e6cd5791e8816f883a9c41deecd9b1280169fc', '5e0b9c1360dec5945903f663216e5ad7f35df96a'],
  ['GSvolume_pa', 1133, '3bb7a4d5951ac6a7e55908231bd108fd3531a1b3c04fafe7b4e553c799a3df96', '0e679e78ce4bc7faa6307647a79348e720d80867'],
  ['GSbandgap', 636, 'd8036ebdfa12754bafd0ee94063027009ea0020c95ed14d88359edc6af0163d8', 'e2e635994255a80b8439a99be036e8578be37b71'],
  ['GSmagmom', 842, 'f7e358df6982f25835706bf766281df3c65858534500a47f18737cacc4a4cf16', '8ea7ba5c0fdf7e73e470998e143a65da2e655b65'],
  ['SpaceGroupNumber', 858, '5bdba4df7fb2c6d86990cc1e500685c21e39d0ed7b771a8810d88c3e97d7092a', '0e82c03c8a4f02f9827b5f90d797bf7535a27d45'],
];

/** Property names of the magpie tables, in matminer's feature order (the file of each is `<name>.table`). */
export const MAGPIE_PROPERTIES: readonly string[] = MAGPIE_TABLES.map((t) => t[0]);

function plain(name: string, bytes: number, sha256: string, gitBlob: string, upstream: UpstreamFile | undefined, note?: string): AssetFile {
  return { name, slot: name, bytes, sha256, gitBlob, onMirror: true, variant: 'original', ...(upstream ? { upstream } : {}), ...(note ? { note } : {}) };
}

const MAGPIE: Asset = {
  name: 'magpie',
  kind: 'element-data',
  description: "Magpie element-property tables (22 tables of matminer's ElementProperty 'magpie' preset), for the DNG composition fingerprint",
  licence: 'BSD-style (matminer; Copyright (c) 2015 The Regents of the University of California, through LBNL)',
  citation: 'Ward, Agrawal, Choudhary, Wolverton, npj Comput. Mater. 2, 16028 (2016); Ward et al., matminer, Comput. Mater. Sci. 152, 60 (2018)',
  mirrorDir: 'reference/magpie',
  files: [
    ...MAGPIE_TABLES.map(([p, bytes, sha, blob]) => plain(`${p}.table`, bytes, sha, blob, { repo: MATMINER, commit: MATMINER_COMMIT, path: `${MAGPIE_DIR}/${p}.table` })),
    plain('LICENSE', 2419, 'e4df766c6937dad4a0f0646e2afbbc1689aacb3a0c30db687acbd86f73083cc4', '5e152337d9027a6882b866061839c226d9001200', { repo: MATMINER, commit: MATMINER_COMMIT, path: 'LICENSE' }),
    plain('magpie_elementdata_README.txt', 8892, '5f5ed8353ff783e465dd802268b0fe3e8735883cbf4991209735c6067af2af0b', '2599f381c22ec48acfbb05e508191aa8dff6a8f1', { repo: MATMINER, commit: MATMINER_COMMIT, path: `${MAGPIE_DIR}/README.txt` }, 'units and original sources of each property'),
  ],
};

const MATGL = 'materialsvirtuallab/matgl';
const MATGL_COMMIT = 'e9cde229';
const M3GNET_DIR = 'pretrained_models/M3GNet-MP-2021.2.8-PES';

const M3GNET: Asset = {
  name: 'm3gnet-mp-2021.2.8',
  kind: 'potential',
  description: 'M3GNet-MP-2021.2.8-PES universal interatomic potential (matgl): PyTorch state_dict + hyper-parameters',
  licence: 'BSD-3-Clause (matgl, Copyright (c) 2022 Materials Virtual Lab)',
  citation: 'Chen & Ong, Nat. Comput. Sci. 2, 718 (2022); Ko, Ong et al., matgl',
  mirrorDir: 'reference/m3gnet',
  files: [
    plain('state.pt', 1228529, 'a9aa723705bd1a242ec8749332f137811c4a94e17995a564f8f94a9aca68061b', 'b338630cfad19794fad8f0d720a5c4b5c3ddc7b5', { repo: MATGL, commit: MATGL_COMMIT, path: `${M3GNET_DIR}/state.pt` }, 'PyTorch zip archive holding a plain state_dict (float32 tensors)'),
    plain('model.json', 5211, '05e7db8676ceb37eb07848aff49c556b188699e1035f3df0cbbf1a2c4959148f', '25188baaa4602a9b9c4f39c303fb446a3713dbef', { repo: MATGL, commit: MATGL_COMMIT, path: `${M3GNET_DIR}/model.json` }, 'hyper-parameters'),
    plain('LICENSE', 1529, 'a1f95e08d7efe8e911aed04b891d51b90ba46291585f43939134806670ee2a38', 'a253c00fffd7dc75d3b304ff98e41b5eb82b3220', { repo: MATGL, commit: MATGL_COMMIT, path: 'LICENSE' }),
    {
      ...plain('cubic_lattice_dev.csv', 1617, '7689b58974cea49eef191e2cceaac553bf067134ac37fb5aa068b7f00d906227', 'da6d2e628d268460269b01c137b92777ba434d5e', undefined, "half of the upstream model card's cubic-crystal lattice benchmark (mirror only)"),
      optional: true,
    },
  ],
};

const ASSETS: readonly Asset[] = [PEROV_5, MP_20, MPTS_52, CARBON_24, MAGPIE, M3GNET];

export function listAssets(): Asset[] {
  return ASSETS.map((a) => ({ ...a, files: a.files.map((f) => ({ ...f })) }));
}

export function assetNames(): string[] {
  return ASSETS.map((a) => a.name);
}

/** The registry entry of `name`; an unknown name is an InputError listing the known ones. */
export function getAsset(name: string): Asset {
  const a = ASSETS.find((x) => x.name === name);
  if (!a) throw new InputError(`unknown asset "${name}" (known: ${assetNames().join(', ')})`);
  return a;
}

/** The slots of an asset that must be filled for it to count as installed, in registry order. */
export function requiredSlots(asset: Asset): string[] {
  const out: string[] = [];
  for (const f of asset.files) if (!f.optional && !out.includes(f.slot)) out.push(f.slot);
  return out;
}

/** URL of an upstream file: raw.githubusercontent at the pinned commit, or GitHub's blob API when only the blob id is known. */
export function upstreamUrl(file: AssetFile): string {
  const u = file.upstream;
  if (!u) throw new InputError(`${file.name} exists only on a mirror (it has no upstream location)`);
  if (u.commit) return `https://raw.githubusercontent.com/${u.repo}/${u.commit}/${u.path}`;
  if (!file.gitBlob) throw new InputError(`${file.name}: upstream has neither a commit nor a blob id`);
  return `https://api.github.com/repos/${u.repo}/git/blobs/${file.gitBlob}`;
}
