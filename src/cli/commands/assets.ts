/**
 * `kldm assets list | fetch | verify`: third-party files (datasets, element
 * tables, potential weights) in the store under $KLDM_HOME (issue #12).
 * `kldm data fetch` is the same fetch limited to datasets.
 */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { InputError, KldmError, errorMessage } from '../../util/errors.js';
import { formatBytes } from '../../util/progress.js';
import { assetNames, getAsset, listAssets } from '../../assets/registry.js';
import { kldmHome } from '../../assets/home.js';
import { assetStatus, describeSource, fetchAsset, partialDownloads, resolveSource, verifyAsset } from '../../assets/store.js';
import type { Asset } from '../../assets/types.js';

const usage = `Usage:
  kldm assets list                          every asset: kind, size, licence, installed or not, where
  kldm assets fetch <name...>|all [--from <dir|url>] [--quiet]
                                            download (or copy from a mirror), verify, install
  kldm assets verify [name...]              re-hash installed files against the registry
  kldm assets info <name>                   files, hashes, upstream, licence, citation

Assets: ${assetNames().join(', ')}
Store: $KLDM_HOME (default ~/.cache/kldm)/assets/<name>/; now ${kldmHome()}
Source: --from <dir|url>, else $KLDM_MIRROR, else upstream (GitHub, pinned commits/blobs).
A mirror is laid out like data/<dataset>/<file>, reference/magpie/<file>, reference/m3gnet/<file>.
Details: docs/data.md
`;

export function table(rows: (string | number)[][], align: ('l' | 'r')[] = []): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells
    .map((r) => r.map((v, c) => (align[c] === 'r' ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** Size of an asset as the mirror holds it (its required files, plus optional ones). */
function mirrorSize(a: Asset): number {
  return a.files.filter((f) => f.onMirror).reduce((n, f) => n + (f.bytes ?? 0), 0);
}

function statusText(name: string): string {
  const st = assetStatus(name);
  const filled = st.slots.filter((s) => !s.optional && s.file).length;
  const needed = st.slots.filter((s) => !s.optional).length;
  const variants = new Set(st.slots.filter((s) => s.file && !s.optional).map((s) => s.file!.variant));
  const partial = partialDownloads(name).length > 0 ? ' (partial download kept)' : '';
  if (st.installed) return `installed${variants.has('reconstruction') ? ' (reconstruction)' : ''}${partial}`;
  if (filled === 0) return `missing${partial}`;
  return `incomplete ${filled}/${needed}${partial}`;
}

function runList(): number {
  const rows: (string | number)[][] = [['asset', 'kind', 'size', 'licence', 'status']];
  for (const a of listAssets()) rows.push([a.name, a.kind, formatBytes(mirrorSize(a)), a.licence.replace(/ \(.*$/, ''), statusText(a.name)]);
  console.log(table(rows, ['l', 'l', 'r']));
  console.log(`\nstore: ${kldmHome()}/assets/<asset>/   (KLDM_HOME; install with: kldm assets fetch <name>|all [--from <mirror dir>])`);
  return 0;
}

function runInfo(argv: string[]): number {
  if (argv.length !== 1) throw new InputError('assets info needs exactly one asset name');
  const a = getAsset(argv[0]!);
  const st = assetStatus(a.name);
  console.log(`${a.name} (${a.kind}): ${a.description}`);
  console.log(`licence: ${a.licence}`);
  console.log(`cite: ${a.citation}`);
  console.log(`mirror folder: ${a.mirrorDir}/   store: ${st.dir}/`);
  for (const f of a.files) {
    const here = st.slots.find((s) => s.file === f) ? 'installed' : '-';
    const up = f.upstream ? `${f.upstream.repo}${f.upstream.commit ? '@' + f.upstream.commit : ''}:${f.upstream.path}` : '(mirror only)';
    console.log(`  ${f.name}  [${f.slot}${f.optional ? ', optional' : ''}; ${f.variant}]  ${here}`);
    console.log(`    ${f.bytes !== undefined ? `${f.bytes} bytes` : 'size not published'}${f.sha256 ? `  sha256 ${f.sha256}` : ''}${f.gitBlob ? `  git blob ${f.gitBlob}` : ''}`);
    if (f.content) console.log(`    decompressed: ${f.content.bytes} bytes  sha256 ${f.content.sha256}${f.content.gitBlob ? `  git blob ${f.content.gitBlob}` : ''}`);
    console.log(`    upstream: ${up}${f.onMirror ? '; on the mirror' : ''}`);
    if (f.note) console.log(`    ${f.note}`);
  }
  return 0;
}

/** Installs the named assets ("all" = every asset); shared by `kldm data fetch`. */
export async function runFetch(argv: string[], allowed: string[], what: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { from: { type: 'string' }, quiet: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new InputError(`fetch needs ${what} names or "all" (known: ${allowed.join(', ')})`);
  const names = positionals.includes('all') ? allowed : positionals;
  for (const n of names) {
    getAsset(n);
    if (!allowed.includes(n)) throw new InputError(`"${n}" is not a ${what} (known: ${allowed.join(', ')}); use kldm assets fetch ${n}`);
  }
  const source = resolveSource(values.from);
  console.log(`source: ${describeSource(source)}; store: ${kldmHome()}/assets/`);
  let failed = 0;
  for (const name of names) {
    try {
      const r = await fetchAsset(name, { ...(values.from !== undefined ? { from: values.from } : {}), quiet: values.quiet });
      const installed = r.files.filter((f) => f.action === 'installed');
      const bytes = installed.reduce((n, f) => n + f.bytes, 0);
      const variant = assetStatus(name).slots.some((s) => !s.optional && s.file?.variant === 'reconstruction') ? ' (reconstruction)' : '';
      console.log(
        `${name}: ${installed.length > 0 ? `installed ${installed.length} file(s), ${formatBytes(bytes)}, verified` : 'already installed'}` +
          `${variant}; ${r.files.length} file(s) in place${r.skipped.length ? `; not on this source (optional): ${r.skipped.join(', ')}` : ''}`,
      );
    } catch (err) {
      if (!(err instanceof KldmError)) throw err;
      failed++;
      console.error(`${name}: FAILED: ${errorMessage(err)}`);
    }
  }
  if (failed > 0) console.error(`${failed} of ${names.length} asset(s) failed`);
  return failed > 0 ? 3 : 0;
}

async function runVerify(argv: string[]): Promise<number> {
  const names = argv.length > 0 ? argv : assetNames();
  let bad = 0;
  let checked = 0;
  for (const n of names) {
    getAsset(n);
    const checks = await verifyAsset(n);
    const st = assetStatus(n);
    if (checks.length === 0) {
      console.log(`${n}: not installed`);
      continue;
    }
    for (const c of checks) {
      checked++;
      if (!c.ok) bad++;
      console.log(`${n}/${c.file}: ${c.ok ? 'OK' : 'BAD'} (${c.detail})`);
    }
    if (!st.installed) console.log(`${n}: incomplete (missing: ${st.slots.filter((s) => !s.optional && !s.file).map((s) => s.slot).join(', ')})`);
  }
  console.log(`${checked} file(s) checked, ${bad} bad${bad > 0 ? ' (delete the bad files and fetch again)' : ''}`);
  return bad > 0 ? 1 : 0;
}

export const assetsCommand: Command = {
  name: 'assets',
  summary: 'third-party datasets, element tables and weights: list, fetch (verified), verify',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'list':
        if (rest.length > 0) throw new InputError(`assets list takes no arguments (got ${rest.join(' ')})`);
        return runList();
      case 'fetch':
        return runFetch(rest, assetNames(), 'asset');
      case 'verify':
        return runVerify(rest);
      case 'info':
        return runInfo(rest);
      case undefined:
        console.log(usage);
        return 1;
      default:
        throw new InputError(`unknown assets subcommand "${sub}" (use list, fetch, verify or info)`);
    }
  },
};
