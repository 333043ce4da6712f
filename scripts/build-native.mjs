#!/usr/bin/env node
// Builds the native engine (native/*.cc -> build/Release/kldm_native.node) with
// node-gyp at `npm ci` / `npm install` (package.json "install" script).
// GEMM comes from OpenBLAS (libopenblas-dev) and/or oneDNN (libdnnl-dev); each is
// used when a test program including its header links. If neither is present or
// the build fails, this prints one warning line and exits 0: kldm then runs on
// the (slow) TypeScript reference kernels. Set KLDM_SKIP_NATIVE=1 to skip.
// Offline: node headers are taken from --nodedir (npm config `nodedir`, or /usr
// when /usr/include/node/node_api.h exists) so node-gyp downloads nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const warn = (msg) => {
  process.stderr.write(`kldm: native engine not built (${msg}); falling back to the slow TypeScript kernels. Install libopenblas-dev or libdnnl-dev and g++/make/python3, then run \`npm rebuild kldm\` or \`node scripts/build-native.mjs\`.\n`);
  process.exit(0);
};

if (process.env.KLDM_SKIP_NATIVE === '1') {
  process.stderr.write('kldm: KLDM_SKIP_NATIVE=1, native engine not built\n');
  process.exit(0);
}

const cxx = process.env.CXX || 'g++';
function links(header, lib, call) {
  const dir = mkdtempSync(join(tmpdir(), 'kldm-probe-'));
  try {
    const src = join(dir, 'probe.cc');
    writeFileSync(src, `#include <${header}>\nint main() { ${call}; return 0; }\n`);
    const r = spawnSync(cxx, [src, '-o', join(dir, 'probe'), lib], { stdio: 'ignore' });
    return r.status === 0;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const haveOpenBlas = links('cblas.h', '-lopenblas', 'openblas_set_num_threads(1)');
const haveDnnl = links('dnnl.h', '-ldnnl', 'dnnl_sgemm(\'N\', \'N\', 1, 1, 1, 1.f, nullptr, 1, nullptr, 1, 0.f, nullptr, 1)');
if (!haveOpenBlas && !haveDnnl) warn(`no usable BLAS: neither -lopenblas (cblas.h) nor -ldnnl (dnnl.h) links with ${cxx}`);

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}
const gyp = findNodeGyp();
if (!gyp) warn('node-gyp not found (it ships with npm)');

const args = [gyp, 'rebuild', '--release'];
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : '');
if (nodedir) args.push(`--nodedir=${nodedir}`);
const env = { ...process.env, KLDM_OPENBLAS: haveOpenBlas ? '1' : '0', KLDM_DNNL: haveDnnl ? '1' : '0' };
const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  process.stderr.write(`${tail}\n`);
  warn(`node-gyp failed with status ${r.status}`);
}
const libs = [haveOpenBlas && 'OpenBLAS', haveDnnl && 'oneDNN'].filter(Boolean).join(' + ');
process.stderr.write(`kldm: native engine built (${libs}) -> build/Release/kldm_native.node\n`);
