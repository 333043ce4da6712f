// Shared by the kill drills: a seeded random source, running the CLI, and killing it at a moment.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const KLDM = fileURLToPath(new URL('../../bin/kldm.mjs', import.meta.url));

/** mulberry32: a small seeded generator, so that a drill's kill moments are reproducible */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/**
 * Runs `kldm args...`; with killAfterMs, sends SIGKILL after that many ms (if still running).
 * Resolves to { code, signal, killed, ms, stderr }.
 */
export function runKldm(args, killAfterMs) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [KLDM, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
    let killed = false;
    const timer = killAfterMs === undefined ? null : setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, killed: killed && signal === 'SIGKILL', ms: Date.now() - t0, stderr });
    });
  });
}
