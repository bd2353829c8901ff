import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChangeUnderTest } from '../../src/github/event.js';
import { prepareWorktrees } from '../../src/sources/worktrees.js';
import { useTempDir } from '../support/temp-dir.js';

// A bare "origin" with main (3 commits), a tag on the first, a PR branch, and a fork PR head that
// exists only under refs/pull/7/head, as GitHub keeps it; then a depth-1 clone of main.
const root = useTempDir('alloc-balance-git-');
const origin = join(root, 'origin.git');
const seed = join(root, 'seed');
const clone = join(root, 'clone');
const sha: Record<string, string> = {};

/** git's output; a failure throws with git's message (stderr is kept for it, not printed: some probes are meant to fail). */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ann',
      GIT_AUTHOR_EMAIL: 'ann@nic-lab.example',
      GIT_COMMITTER_NAME: 'Ann',
      GIT_COMMITTER_EMAIL: 'ann@nic-lab.example',
    },
  }).trim();
}

function commit(name: string, file: string, text: string): void {
  writeFileSync(join(seed, file), text);
  git(seed, 'add', file);
  git(seed, 'commit', '-q', '-m', name);
  sha[name] = git(seed, 'rev-parse', 'HEAD');
}

beforeAll(() => {
  git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  git(root, 'init', '-q', '-b', 'main', seed);
  commit('base', 'kni_misc.c', 'free_netdev(dev->net_dev);\n');
  git(seed, 'tag', 'v1.0');
  commit('main2', 'README', 'kni\n');
  commit('main3', 'README', 'kni driver\n');
  git(seed, 'checkout', '-q', '-b', 'fix', sha.base);
  commit('head', 'kni_misc.c', 'free_netdev(dev->net_dev);\nif (dev->lad_dev) free_netdev(dev->lad_dev);\n');
  git(seed, 'checkout', '-q', '--detach', sha.base);
  commit('fork', 'kni_misc.c', 'free_netdev(dev->net_dev); /* fork */\n');
  git(seed, 'push', '-q', origin, 'main', 'fix', 'v1.0', `${sha.fork}:refs/pull/7/head`);
  git(root, 'clone', '-q', '--depth=1', '--no-tags', '--single-branch', '-b', 'main', `file://${origin}`, clone);
  // Protocol v0 without allowReachableSHA1InWant: only SHAs at advertised ref tips can be fetched,
  // the strictest a server can be.
  git(clone, 'config', 'protocol.version', '0');
});

function change(base: { ref: string; sha: string }, head: { ref: string; sha: string }, prNumber: number | null = null): ChangeUnderTest {
  return { event: 'pull_request', action: 'opened', repository: 'nic-lab/kni-driver', base, head, prNumber, isFork: false, headRepo: 'nic-lab/kni-driver' };
}

function worktreeCount(): number {
  return git(clone, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree ')).length;
}

describe('base and head worktrees', () => {
  it('fetches the base commit a shallow clone lacks, checks both out, removes them', async () => {
    expect(git(clone, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(() => git(clone, 'cat-file', '-e', `${sha.base}^{commit}`)).toThrow();
    const work = join(root, 'work1');
    const log: string[] = [];
    const trees = await prepareWorktrees(clone, change({ ref: 'main', sha: sha.base }, { ref: 'fix', sha: sha.head }), work, { log: (m) => log.push(m) });
    try {
      expect(trees.baseSha).toBe(sha.base);
      expect(trees.headSha).toBe(sha.head);
      expect(readFileSync(join(trees.base, 'kni_misc.c'), 'utf8')).toBe('free_netdev(dev->net_dev);\n');
      expect(readFileSync(join(trees.head, 'kni_misc.c'), 'utf8')).toContain('lad_dev');
      expect(git(trees.base, 'rev-parse', 'HEAD')).toBe(sha.base);
      expect(worktreeCount()).toBe(3);
      expect(log.some((l) => l.includes(`--depth=1 origin +${sha.base}:`))).toBe(true);
    } finally {
      await trees.dispose();
    }
    expect(worktreeCount()).toBe(1);
    expect(existsSync(trees.base)).toBe(false);
    expect(existsSync(trees.head)).toBe(false);
    expect(git(clone, 'for-each-ref', 'refs/alloc-balance')).toBe('');
    // The clone's own checkout is untouched.
    expect(git(clone, 'rev-parse', 'HEAD')).toBe(sha.main3);
    expect(git(clone, 'status', '--porcelain')).toBe('');
    await trees.dispose();
  });

  it('fetches a fork head that exists only under refs/pull/N/head', async () => {
    const log: string[] = [];
    const trees = await prepareWorktrees(clone, change({ ref: 'main', sha: sha.main3 }, { ref: 'main', sha: sha.fork }, 7), join(root, 'work2'), {
      log: (m) => log.push(m),
    });
    try {
      // The server advertises refs/pull/7/head, so its tip can be fetched by SHA even by a strict server.
      expect(log.filter((l) => l.includes('fetch'))).toEqual([expect.stringContaining(`origin +${sha.fork}:refs/alloc-balance/head`)]);
      expect(readFileSync(join(trees.head, 'kni_misc.c'), 'utf8')).toContain('/* fork */');
    } finally {
      await trees.dispose();
    }
    expect(worktreeCount()).toBe(1);
  });

  it('resolves refs given without a SHA (a tag for the base, a branch for the head)', async () => {
    const trees = await prepareWorktrees(clone, change({ ref: 'v1.0', sha: '' }, { ref: 'fix', sha: '' }), join(root, 'work3'));
    try {
      expect(trees.baseSha).toBe(sha.base);
      expect(trees.headSha).toBe(sha.head);
    } finally {
      await trees.dispose();
    }
  });

  it('fails with the SHA named and leaves nothing behind when a commit cannot be fetched', async () => {
    const missing = 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef';
    const work = join(root, 'work4');
    await expect(prepareWorktrees(clone, change({ ref: 'main', sha: sha.main3 }, { ref: 'x', sha: missing }, 7), work)).rejects.toThrow(
      new RegExp(`the head commit ${missing} cannot be fetched from origin: .*refs/pull/7/head does not contain`),
    );
    expect(worktreeCount()).toBe(1);
    expect(existsSync(join(work, 'base'))).toBe(false);
    expect(git(clone, 'for-each-ref', 'refs/alloc-balance')).toBe('');
    await expect(prepareWorktrees(clone, change({ ref: 'no-such-branch', sha: '' }, { ref: 'fix', sha: '' }), work)).rejects.toThrow(
      /the base ref "no-such-branch" is neither a local commit nor a branch or tag of origin/,
    );
  });
});

describe('cleanup from the post step', () => {
  it('removes worktrees known only by their directories', async () => {
    const { removeWorktrees } = await import('../../src/sources/worktrees.js');
    const trees = await prepareWorktrees(clone, change({ ref: 'main', sha: sha.main3 }, { ref: 'fix', sha: sha.head }), join(root, 'work5'));
    expect(worktreeCount()).toBe(3);
    await removeWorktrees(clone, [trees.base, trees.head]);
    expect(worktreeCount()).toBe(1);
    expect(existsSync(trees.head)).toBe(false);
    expect(git(clone, 'for-each-ref', 'refs/alloc-balance')).toBe('');
    // Already gone: removing again is not an error.
    await removeWorktrees(clone, [trees.base, trees.head]);
  });
});
