#!/usr/bin/env node
// Thin launcher: the CLI lives in src/cli (compiled to dist/ by `npm run build`,
// which `npm ci` runs through the `prepare` script).
import { setFlagsFromString } from 'node:v8';

// V8 11 (Node 20) aborts with SIGTRAP when it deoptimises a function into which
// TurboFan inlined a JS->WASM call returning an object (externref): seen with
// matterviz-wasm / moyo-wasm calls in hot code. Turning that inlining off
// process-wide (before any code is optimised) removes the crash at no
// measurable cost: our hot loops are not WASM calls.
setFlagsFromString('--no-turbo-inline-js-wasm-calls');
const { main } = await import('../dist/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`kldm: internal error: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(70);
  },
);
