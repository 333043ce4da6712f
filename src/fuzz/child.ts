/**
 * One fuzz target in its own process (started by run.ts): reports a heartbeat before every case,
 * so that the parent can kill a hung case and name it, and the final report.
 *   argv: <target> <seed> <cases> [path]
 */
import { fuzzTarget } from './harness.js';
import { fuzzTargetByName } from './targets/index.js';

const [name, seed, cases, path] = process.argv.slice(2);
const send = (m: unknown): void => void process.send?.(m);
const report = await fuzzTarget(fuzzTargetByName(name!), {
  seed: Number(seed),
  numRuns: Number(cases),
  ...(path ? { path } : {}),
  onCase: (index) => send({ type: 'case', index }),
});
// disconnect only once the report is written: queued messages are dropped by an early disconnect
process.send?.({ type: 'report', report }, () => process.disconnect?.());
