// A temporary folder for the tests of one file (or one describe block).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Makes a folder under the system's temp folder now and removes it, with what the tests left in it,
 * after the tests of the enclosing scope; with AB_KEEP set it is kept (and named) for a look at
 * what a run left. Call it at the top of a test file or in a describe block.
 */
export function useTempDir(prefix = 'alloc-balance-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => {
    if (process.env.AB_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
