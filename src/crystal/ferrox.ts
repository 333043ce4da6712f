/**
 * Synchronous access to matterviz-wasm (the ferrox library).
 *
 * The package's `init()` is async and fetches the .wasm by URL, which Node's
 * fetch cannot do for file: URLs. We import the wasm-bindgen glue next to the
 * package entry and instantiate the module synchronously from the file bytes on
 * first use, so that callers (Niggli reduction in preprocessing, the matcher in
 * evaluation) stay synchronous. Node 20 compiles a 3.5 MB module in ~20 ms.
 */
import { readFileSync } from 'node:fs';
import type * as Ferrox from 'matterviz-wasm';

export type FerroxModule = typeof Ferrox;

const packageEntry = import.meta.resolve('matterviz-wasm');
const glue = (await import(new URL('./pkg/ferrox.js', packageEntry).href)) as FerroxModule & {
  initSync(options: { module: Uint8Array }): unknown;
};
let initialised = false;

/** The initialised ferrox module (instantiated on the first call). */
export function ferrox(): FerroxModule {
  if (!initialised) {
    glue.initSync({ module: readFileSync(new URL('./pkg/ferrox_bg.wasm', packageEntry)) });
    initialised = true;
  }
  return glue;
}

/** Unwraps ferrox's `{ok} | {error}` result, throwing `onError(message)` on failure. */
export function unwrap<T>(result: { ok: T } | { error: string }, onError: (message: string) => Error): T {
  if ('ok' in result) return result.ok;
  throw onError(result.error);
}
