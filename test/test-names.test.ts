// The tiers are chosen by file name (vitest.config.ts): a kernel test named otherwise would run in
// the unit tier, without the lab, or, under test/e2e, in no tier at all.
import { existsSync, readdirSync } from 'node:fs';
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

test("the tests of src/X/ are in test/X/: a test folder is a source folder, or one of the suite's own", () => {
  const src = join(TEST, '..', 'src');
  // e2e: the bundled action end to end; release: the release tooling; support: the helpers (and their tests).
  const own = new Set(['e2e', 'release', 'support']);
  const folders = [
    ...new Set(
      testFiles(TEST)
        .map((f) => f.split('/')[0])
        .filter((top) => !top.endsWith('.test.ts')),
    ),
  ];
  expect(folders.length).toBeGreaterThan(10);
  expect(folders.filter((f) => !own.has(f) && !existsSync(join(src, f)))).toEqual([]);
  // A test at the top is of a file at the top of src/, or of the whole repository.
  const whole = new Set(['test-names.test.ts', 'import-graph.test.ts']);
  const top = testFiles(TEST).filter((f) => !f.includes('/') && !whole.has(f));
  expect(top.filter((f) => !existsSync(join(src, f.replace(/\.test\.ts$/, '.ts'))))).toEqual([]);
});
