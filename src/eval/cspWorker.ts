/** Worker thread of evaluateCsp: runs batches of CspJobs against the ground truths given in workerData. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Structure } from '../crystal/types.js';
import { runCspJob, type CspJob, type CspJobResult } from './cspJob.js';
import type { ValidityProtocol } from './validity.js';
import type { MatcherOptions } from './match.js';

interface Init {
  gts: Array<Structure | null>;
  protocol: ValidityProtocol;
  matcher: MatcherOptions;
}

const init = workerData as Init;
parentPort!.on('message', (batch: CspJob[]) => {
  const out: CspJobResult[] = [];
  for (let i = 0; i < batch.length; i++) out.push(runCspJob(batch[i]!, init.gts, init.protocol, init.matcher));
  parentPort!.postMessage(out);
});
parentPort!.postMessage('ready');
