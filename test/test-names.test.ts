// The tiers are chosen by file name (vitest.config.ts): a kernel test named otherwise would run in
// the unit tier, without the lab, or, under test/e2e, in no tier at all.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';

const TEST = import.meta.dirname;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [relative(TEST, join(dir, e.name))] : [],
  );
}

test('every end-to-end test is a kernel test, and a kernel test ends in .vm.test.ts', () => {
  const files = testFiles(TEST);
  expect(files.length).toBeGreaterThan(40);
  expect(files.filter((f) => f.startsWith('e2e/') && !f.endsWith('.vm.test.ts'))).toEqual([]);
  expect(files.filter((f) => /-vm\.test\.ts$/.test(f))).toEqual([]);
});
