// `alloc-balance run`'s refusals, before anything is set up: one line naming the option and the fix, exit 64.
import { spawnSync, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliBundle } from '../support/cli.js';
import { useTempDir } from '../support/temp-dir.js';

let cli = '';
const repo = useTempDir('alloc-balance-run-');

beforeAll(() => {
  cli = cliBundle();
  const git = (args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo, stdio: 'pipe' });
  git(['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'Makefile'), 'obj-m := x.o\n');
  git(['add', '-A']);
  git(['commit', '-qm', 'one']);
}, 60_000);

function run(args: string[], cwd = repo) {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('alloc-balance run refuses bad input first', () => {
  it.each([
    [[], 'run: --base REF is required'],
    [['--base', 'nope'], 'run: --base nope is no commit of the repository in'],
    [['--base', 'HEAD', '--head', 'nope'], 'run: --head nope is no commit'],
    [['--base', 'HEAD', '--cycles', 'abc'], 'cycles'],
    [['--base', 'HEAD', '--stop-signal', 'SIGFOO'], 'stop-signal'],
    [['--base', 'HEAD', '--track', 'kmalloc:free_netdev'], 'track'],
    [['--base', 'HEAD', '--mode', 'report'], 'unknown option --mode'],
    [['--base', 'HEAD', '--github-token', 'x'], 'unknown option --github-token'],
    [['--base', 'HEAD', '--out', ''], 'run: --out needs a folder'],
  ])('%j', (args, message) => {
    const r = run(args as string[]);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
  });

  it('outside a git repository it says to run it in a clone', () => {
    const r = run(['--base', 'HEAD'], tmpdir());
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('is not a git repository: run it in a clone');
  });

  it('takes every input the action has but those about GitHub: --help lists them', () => {
    const r = spawnSync(process.execPath, [cli, 'run', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: alloc-balance run --base REF');
  });
});
