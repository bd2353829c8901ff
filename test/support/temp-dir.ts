// A temporary folder for the tests of one file (or one describe block).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Makes a folder under the system's temp folder now and removes it, with what the tests left in it,
 * after the tests of the enclosing scope. Call it at the top of a test file or in a describe block.
 */
export function useTempDir(prefix = 'alloc-balance-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
