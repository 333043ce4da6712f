/**
 * The CLI run from the TypeScript sources (`node --import tsx src/cli/source-entry.ts <command> ...`),
 * as bin/kldm.mjs runs it from dist/: for tests that need real `kldm` processes (workers to kill,
 * servers to crash) without a build step.
 */
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

setFlagsFromString('--no-turbo-inline-js-wasm-calls'); // as bin/kldm.mjs
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`kldm: internal error: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(70);
  },
);
