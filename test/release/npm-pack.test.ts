// The package as `npm pack` makes it: what the tarball holds ("files" in package.json), and that it
// installs into an empty project without the registry (the bundle carries its dependencies) and
// `npx alloc-balance` runs from there.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { useTempDir } from '../support/temp-dir.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
const work = useTempDir('alloc-balance-pack-');

interface Packed {
  filename: string;
  size: number;
  files: { path: string; mode: number }[];
}
let packed: Packed;

beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  packed = (JSON.parse(out) as Packed[])[0];
});

describe('npm pack', () => {
  test('holds the bundle, the action, the modules the demo and the helpers build, and the licence', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/cli.js',
        'dist/index.js',
        'dist/post.js',
        'dist/licenses.txt',
        'action.yml',
        'kmod/module.mk',
        'kmod/canary/ab_canary.c',
        'kmod/canary/Makefile',
        'kmod/failsite/ab_failsite.c',
        'kmod/apiwatch/ab_apiwatch.c',
        'demo/kni-like/kni_like.c',
        'demo/kni-like/app/kni_like_app.c',
        'demo/leak-shapes/leak_shapes.c',
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'package.json',
      ]),
    );
    expect(paths.filter((p) => /^(src|test|scripts|node_modules|docs|\.github|canary|failsite|apiwatch)\//.test(p))).toEqual([]);
    // The bin is executable in the tarball, as git keeps it.
    expect(packed.files.find((f) => f.path === 'dist/cli.js')?.mode.toString(8)).toBe('755');
    // The bundle holds every dependency: nothing to fetch on install.
    expect(PKG.dependencies ?? {}).toEqual({});
  });

  test('installs offline into an empty project; npx alloc-balance --version and help run from it', () => {
    const project = join(work, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), '{ "name": "uses-alloc-balance", "private": true }\n');
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], { cwd: project, stdio: 'pipe' });
    const version = execFileSync('npx', ['--offline', '--no-install', 'alloc-balance', '--version'], { cwd: project, encoding: 'utf8' });
    expect(version.trim()).toBe(PKG.version);
    const help = execFileSync('npx', ['--offline', '--no-install', 'alloc-balance', 'help', 'demo'], { cwd: project, encoding: 'utf8' });
    expect(help).toContain('demo');
  });
});
