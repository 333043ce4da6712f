/**
 * `npm run fuzz`: runs every fuzz target (src/fuzz/targets) for a number of seeded cases, each in
 * its own process under a watchdog, and prints per target: cases, cases/s, accepted/rejected, and
 * any failure with the seed and path that replay it.
 *
 *   npm run fuzz                                   # 10,000 cases per target, a fresh seed (printed)
 *   npm run fuzz -- --cases 2000 --seed 42 --target cif,poscar
 *   npm run fuzz -- --target cif --seed 42 --path 1234:5:0     # replay one failure
 *
 * Exit code 1 when any target failed or hung.
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { FuzzReport } from './harness.js';
import { FUZZ_TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    target: { type: 'string' },
    path: { type: 'string' },
    'hang-seconds': { type: 'string', default: '30' },
  },
});
const cases = Number(values.cases);
const seed = values.seed !== undefined ? Number(values.seed) : (Date.now() ^ (process.pid << 16)) >>> 0;
const hangMs = Number(values['hang-seconds']) * 1000;
const names = values.target ? values.target.split(',') : FUZZ_TARGETS.map((t) => t.name);
const child = fileURLToPath(new URL(`./child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

interface Outcome {
  name: string;
  report: FuzzReport | null;
  problem: string | null;
  lastCase: number;
  seconds: number;
}

function runTarget(name: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const args = [name, String(seed), String(cases), ...(values.path ? [values.path] : [])];
    const proc = fork(child, args, { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    let report: FuzzReport | null = null;
    let lastCase = -1;
    let stderr = '';
    let hung = false;
    proc.stderr!.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    let timer = setTimeout(onHang, hangMs + 60_000); // setup (corpus loading, server start) included
    function onHang(): void {
      hung = true;
      proc.kill('SIGKILL');
    }
    proc.on('message', (m: { type: string; index?: number; report?: FuzzReport }) => {
      if (m.type === 'case') {
        lastCase = m.index!;
        clearTimeout(timer);
        timer = setTimeout(onHang, hangMs);
      } else if (m.type === 'report') {
        report = m.report!;
        clearTimeout(timer);
        timer = setTimeout(onHang, hangMs); // teardown
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - t0) / 1000;
      let problem: string | null = null;
      if (hung) problem = `HANG: case ${lastCase} did not finish within ${hangMs / 1000} s (replay: --target ${name} --seed ${seed} --path ${lastCase})`;
      else if (!report) problem = `CRASH: the process exited (code ${code}, signal ${signal}) during case ${lastCase} (replay: --target ${name} --seed ${seed} --path ${lastCase})\n${stderr.trim()}`;
      resolve({ name, report, problem, lastCase, seconds });
    });
  });
}

console.log(`kldm fuzz: ${names.length} targets, ${cases} cases each, seed ${seed}${values.path ? `, path ${values.path}` : ''}`);
const outcomes: Outcome[] = [];
for (const name of names) {
  const o = await runTarget(name);
  outcomes.push(o);
  const r = o.report;
  if (r) {
    console.log(`${name.padEnd(20)} ${String(r.cases).padStart(6)} cases  ${r.casesPerSecond.toFixed(0).padStart(6)} cases/s  accepted ${r.accepted}, rejected cleanly ${r.rejected}  ${r.failure ? 'FAILED' : 'ok'}`);
    if (r.note) console.log(`  note: ${r.note}`);
    if (r.failure) {
      console.log(`  failure (replay: npm run fuzz -- --target ${name} --seed ${r.seed} --path ${r.failure.path}):\n  ${r.failure.message.replace(/\n/g, '\n  ')}\n  input: ${r.failure.input}`);
    }
  } else {
    console.log(`${name.padEnd(20)} ${String(o.lastCase + 1).padStart(6)} cases  FAILED\n  ${o.problem!.replace(/\n/g, '\n  ')}`);
  }
}
const failed = outcomes.filter((o) => !o.report || o.report.failure);
const total = outcomes.reduce((s, o) => s + (o.report?.cases ?? o.lastCase + 1), 0);
const wall = outcomes.reduce((s, o) => s + o.seconds, 0);
console.log(`kldm fuzz: ${outcomes.length - failed.length} of ${outcomes.length} targets passed, ${total} cases in ${wall.toFixed(0)} s (seed ${seed})`);
process.exit(failed.length > 0 ? 1 : 0);
