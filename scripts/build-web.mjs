#!/usr/bin/env node
// Bundles the web page (web/) with esbuild into dist/web: app.js (three.js,
// the page code and the bundled kldm crystal math), index.html, style.css and
// moyo's WebAssembly file. `kldm serve` serves that folder; nothing is loaded
// from a CDN at run time. Usage: node scripts/build-web.mjs [outdir]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildWeb(outdir = join(root, 'dist', 'web'), { minify = true } = {}) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(root, 'web', 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    splitting: false,
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    outfile: join(outdir, 'app.js'),
    minify,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'web', 'index.html'), join(outdir, 'index.html'));
  copyFileSync(join(root, 'web', 'style.css'), join(outdir, 'style.css'));
  const require = createRequire(import.meta.url);
  const moyoDir = dirname(require.resolve('@spglib/moyo-wasm/package.json'));
  copyFileSync(join(moyoDir, 'moyo_wasm_bg.wasm'), join(outdir, 'moyo_wasm_bg.wasm'));
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWeb(process.argv[2] ? resolve(process.argv[2]) : undefined);
  const kb = Math.round(statSync(join(out, 'app.js')).size / 1024);
  console.log(`build-web: ${out} (app.js ${kb} KiB)`);
}
