// scripts/release-check.mjs as the release workflow runs it: the Marketplace's rules on action.yml,
// the tag against package.json and CHANGELOG.md; and the workflow's own steps (the check, then the
// major tag moved) run by bash in a clone whose origin is a local bare repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { useTempDir } from '../support/temp-dir.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'release-check.mjs');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = useTempDir('alloc-balance-release-');

function check(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GITHUB_OUTPUT: '', ...env } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function withAction(name: string, yaml: string): string {
  const file = join(work, `${name}.yml`);
  writeFileSync(file, yaml);
  return file;
}

const GOOD =
  'name: leak check\ndescription: Checks things\nauthor: someone\nbranding:\n  icon: activity\n  color: green\nruns:\n  using: node24\n  main: x.js\n';

describe('the Marketplace rules', () => {
  test("this repository's action.yml passes them", () => {
    const r = check(['--no-dist']);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
  });

  test('a description of 125 characters or more is refused with its length', () => {
    const long = 'x'.repeat(264);
    const r = check(['--no-dist', '--action', withAction('long', GOOD.replace('Checks things', long))]);
    expect(r.status).toBe(1);
    expect(r.err).toContain('description: 264 characters; the Marketplace takes fewer than 125');
    expect(check(['--no-dist', '--action', withAction('max', GOOD.replace('Checks things', 'x'.repeat(124)))]).status).toBe(0);
  });

  test('branding is required, with a Feather icon name and one of the colours', () => {
    const none = check(['--no-dist', '--action', withAction('nobrand', GOOD.replace(/branding:\n.*\n.*\n/, ''))]);
    expect(none.status).toBe(1);
    expect(none.err).toContain('branding: missing (icon and color)');
    const bad = check([
      '--no-dist',
      '--action',
      withAction('badbrand', GOOD.replace('color: green', 'color: pink').replace('icon: activity', 'icon: Activity!')),
    ]);
    expect(bad.err).toContain('branding.color: "pink"; one of white, black, yellow, blue, green, orange, red, purple, gray-dark');
    expect(bad.err).toContain('branding.icon: "Activity!" is not a Feather icon name');
  });

  test('a missing name and author are named', () => {
    const r = check(['--no-dist', '--action', withAction('noname', GOOD.replace('name: leak check\n', '').replace('author: someone\n', ''))]);
    expect(r.status).toBe(1);
    expect(r.err).toContain('name: missing');
    expect(r.err).toContain('author: missing');
  });
});

describe('the tag', () => {
  test("package.json's version tags cleanly, the notes are its CHANGELOG entry, the major tag goes to GITHUB_OUTPUT", () => {
    const output = join(work, 'output');
    const notes = join(work, 'notes.md');
    writeFileSync(output, '');
    const r = check(['--no-dist', '--tag', `v${VERSION}`, '--notes', notes], { GITHUB_OUTPUT: output });
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe(`major=v${VERSION.split('.')[0]}\n`);
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    const entry = readFileSync(notes, 'utf8').trim();
    expect(entry.length).toBeGreaterThan(20);
    expect(changelog).toContain(entry);
    expect(entry).not.toMatch(/^## /m);
  });

  test('another version than package.json, or no patch number, is refused', () => {
    const other = check(['--no-dist', '--tag', 'v99.0.0']);
    expect(other.status).toBe(1);
    expect(other.err).toContain(`tag v99.0.0: package.json says ${VERSION}; set "version": "99.0.0"`);
    expect(other.err).toContain('CHANGELOG.md has no "## 99.0.0" entry');
    expect(check(['--no-dist', '--tag', 'v1']).err).toContain('a release tag is vMAJOR.MINOR.PATCH');
  });
});

describe('the release workflow', () => {
  const workflow = parse(readFileSync(join(ROOT, '.github/workflows/release.yml'), 'utf8'));
  const steps = workflow.jobs.release.steps as { name?: string; run?: string; id?: string; env?: Record<string, string> }[];

  test('runs on semver tags only', () => {
    expect(workflow.on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(workflow.permissions).toEqual({ contents: 'write' });
  });

  test('checks the tag and dist/, then moves the major tag on the remote to the tagged commit', () => {
    // A clone of this commit with a freshly built dist/ committed (the branch under test may carry a stale one).
    const origin = join(work, 'origin.git');
    const clone = join(work, 'clone');
    const git = (args: string[], cwd = clone) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: 'pipe' }).trim();
    git(['clone', '-q', ROOT, clone], work);
    // The remote holds the history already (the clone's refs, without tags): the pushes below carry only the release commit.
    git(['clone', '-q', '--mirror', clone, origin], work);
    for (const tag of git(['tag', '--list'], origin).split('\n').filter(Boolean)) git(['tag', '--delete', tag], origin);
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    for (const f of ['action.yml', 'package.json', 'CHANGELOG.md', 'scripts/build.mjs', 'scripts/release-check.mjs']) {
      writeFileSync(join(clone, f), readFileSync(join(ROOT, f)));
    }
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: clone, stdio: 'pipe' });
    git(['add', '-A', '.']);
    git(['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'release', '--allow-empty']);
    git(['remote', 'set-url', 'origin', origin]);
    const sha = git(['rev-parse', 'HEAD']);
    const tag = `v${VERSION}`;
    git(['tag', tag]);
    // An older v0/v1 already on the remote, elsewhere: the release moves it.
    const major = `v${VERSION.split('.')[0]}`;
    git(['push', '-q', origin, `HEAD~1:refs/heads/old`, `HEAD~1:refs/tags/${major}`, `refs/tags/${tag}`]);

    const output = join(work, 'step-output');
    writeFileSync(output, '');
    const env = { ...process.env, GITHUB_REF_NAME: tag, GITHUB_SHA: sha, GITHUB_OUTPUT: output, RUNNER_TEMP: work };
    const outputs: Record<string, string> = {};
    for (const step of steps) {
      if (!step.run || step.run.startsWith('npm ci') || step.run.startsWith('gh release')) continue;
      const stepEnv: Record<string, string> = { ...env };
      for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = v.replace(/\$\{\{ steps\.check\.outputs\.major \}\}/, outputs.major ?? '');
      const r = spawnSync('bash', ['-e', '-c', step.run], { cwd: clone, env: stepEnv, encoding: 'utf8' });
      expect(r.status, `${step.name}: ${r.stdout}${r.stderr}`).toBe(0);
      for (const line of readFileSync(output, 'utf8').split('\n')) {
        const [k, ...v] = line.split('=');
        if (k) outputs[k] = v.join('=');
      }
    }
    expect(outputs.major).toBe(major);
    expect(git(['rev-parse', `refs/tags/${major}`], origin)).toBe(sha);
    expect(readFileSync(join(work, 'notes.md'), 'utf8')).toContain('###');
  });

  test('the check step fails on a stale dist/', () => {
    const clone = join(work, 'clone');
    writeFileSync(join(clone, 'dist', 'post.js'), '// not the bundle\n');
    const r = spawnSync(process.execPath, ['scripts/release-check.mjs', '--tag', `v${VERSION}`], { cwd: clone, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('dist/: dist/ is stale (post.js)');
  });
});
