/**
 * Test-only: where the M3GNet weights lie on a development machine. The product
 * never reads ../shared; it loads the weights from the asset store and passes the
 * path to loadM3GNet(). Tests that need the real weights skip (with this message)
 * when the file is absent.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `<repo>/../shared/reference/m3gnet/state.pt` */
export const M3GNET_TEST_WEIGHTS = join(repoRoot, '..', 'shared', 'reference', 'm3gnet', 'state.pt');
export const M3GNET_TEST_MODEL_JSON = join(repoRoot, '..', 'shared', 'reference', 'm3gnet', 'model.json');

/** false when present, else the skip message node:test prints */
export function skipWithoutWeights(): false | string {
  return existsSync(M3GNET_TEST_WEIGHTS) ? false : `M3GNet weights not found at ${M3GNET_TEST_WEIGHTS} (the shared reference mirror); skipped`;
}
