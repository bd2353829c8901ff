// A temporary folder for the tests of one file (or one describe block).
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * Names a folder under the system's temp folder now, makes it before the tests of the enclosing
 * scope and removes it, with what the tests left in it, after them; with AB_KEEP set it is kept
 * (and named) for a look at what a run left. Call it at the top of a test file or in a describe
 * block. Nothing is made while the tests are collected: a file or block whose tests are all
 * filtered out or skipped leaves nothing behind.
 */
export function useTempDir(prefix = 'alloc-balance-test-'): string {
  const dir = join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
  beforeAll(() => {
    mkdirSync(dir, { mode: 0o700 });
  });
  afterAll(() => {
    if (process.env.AB_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
