/**
 * Test-only: where the magpie tables live on a development machine or in CI (the mirror of the asset
 * store, `<repo>/../shared/reference/magpie`). Product code never reads this path; it takes the
 * folder from the caller. Returns null (tests skip with a message) when the mirror is absent.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export function testMagpieDir(): string | null {
  const env = process.env['KLDM_MAGPIE_DIR'];
  if (env && existsSync(join(env, 'Number.table'))) return env;
  const dir = fileURLToPath(new URL('../../../../shared/reference/magpie/', import.meta.url));
  return existsSync(join(dir, 'Number.table')) ? dir : null;
}

export const MAGPIE_SKIP_MESSAGE = 'magpie tables not found (../shared/reference/magpie or KLDM_MAGPIE_DIR): composition fingerprint checks skipped';
