// The action's own files from wherever its code runs: the bundle in dist/, a private bundle beside
// it (the tests'), or the TypeScript sources (@github/local-action).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cliPath, packageRoot } from '../src/bundle-paths.js';
import { useTempDir } from './support/temp-dir.js';

const ROOT = resolve(import.meta.dirname, '..');
const scratch = useTempDir('ab-bundle-paths-');

describe('bundle paths', () => {
  test('from the sources and from dist/: the package root, and dist/cli.js', () => {
    expect(packageRoot(join(ROOT, 'src/run'))).toBe(ROOT);
    expect(cliPath(join(ROOT, 'src'))).toBe(join(ROOT, 'dist/cli.js'));
    expect(cliPath(join(ROOT, 'dist'))).toBe(join(ROOT, 'dist/cli.js'));
  });

  test('a bundle elsewhere uses the cli.js beside it', () => {
    const dir = join(scratch, 'bundle');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cli.js'), '');
    expect(cliPath(dir)).toBe(join(dir, 'cli.js'));
  });

  test('outside any checkout of the action: an error that says so', () => {
    writeFileSync(join(scratch, 'package.json'), '{"name":"something-else"}');
    expect(() => packageRoot(scratch)).toThrow(/no package.json of alloc-balance above .*: the action's checkout is incomplete/);
  });
});
