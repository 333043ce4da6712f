/**
 * Test helpers for the queue: a throw-away redis-server on a free loopback port (no persistence,
 * its own directory), kldm processes from the sources, and a small CSV of synthetic perovskites
 * (our own structures, not a dataset) as sampling targets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCif } from '../crystal/io/cif.js';

export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** redis-server bound to 127.0.0.1 only, on a free port, in a temporary directory, no persistence. */
export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kldm-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`redis-server did not start: ${out}`)), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(t);
        res();
      }
    });
    proc.on('exit', (code) => rej(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => new Promise<void>((res) => (proc.exitCode !== null ? res() : (proc.once('exit', () => res()), proc.kill('SIGTERM')))),
  };
}

/** `kldm <args>` as a process from the sources; its stderr is collected in `log()`. */
export function spawnKldm(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; log: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/source-entry.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((res) =>
    proc.on('exit', (code, signal) => {
      // a process killed by a signal exits with code null: say which signal, for the assertion's message
      if (signal) log += `\n[kldm ${args[0]} ${proc.pid}: killed by ${signal}]\n`;
      res(code);
    }),
  );
  return { proc, log: () => log, exited };
}

/** A CSV (material_id, cif) of `n` cubic ABX3 perovskites with varied elements: 5-atom cells that Perov-5 models serve. */
export function perovskiteCsv(n: number): string {
  const A = ['Sr', 'Ba', 'Ca', 'K', 'Na', 'La'];
  const B = ['Ti', 'Zr', 'Nb', 'Ta', 'Mn', 'Fe', 'Co'];
  const X = ['O', 'F', 'N'];
  let csv = 'material_id,cif\n';
  for (let i = 0; i < n; i++) {
    const a = A[i % A.length]!;
    const b = B[Math.floor(i / A.length) % B.length]!;
    const x = X[Math.floor(i / (A.length * B.length)) % X.length]!;
    const L = 3.8 + 0.02 * (i % 10);
    const cif = writeCif({ lattice: [L, 0, 0, 0, L, 0, 0, 0, L], species: [a, b, x, x, x], frac: Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5]) }, `p${i}`);
    csv += `p${i},"${cif.replace(/"/g, '""')}"\n`;
  }
  const path = join(mkdtempSync(join(tmpdir(), 'kldm-queue-csv-')), 'targets.csv');
  writeFileSync(path, csv);
  return path;
}
