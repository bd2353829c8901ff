// The base and the PR sources side by side, each in its own detached git worktree, fetched
// from the remote when the checkout lacks them (shallow clones usually lack the base).
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { ChangeUnderTest, Revision } from '../github/event.js';
import { git as defaultGit, type Git } from './git.js';

interface Worktrees {
  base: string;
  head: string;
  baseSha: string;
  headSha: string;
  /** Removes both worktrees (git worktree remove --force, then prune); safe to call twice. */
  dispose(): Promise<void>;
}

interface WorktreeOptions {
  remote?: string;
  /** Depth of fetches into a shallow repository. */
  depth?: number;
  git?: Git;
  log?: (message: string) => void;
}

async function hasCommit(git: Git, repoDir: string, sha: string): Promise<boolean> {
  try {
    await git(['cat-file', '-e', `${sha}^{commit}`], repoDir);
    return true;
  } catch {
    return false;
  }
}

async function resolveLocal(git: Git, repoDir: string, ref: string): Promise<string | null> {
  try {
    return await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], repoDir);
  } catch {
    return null;
  }
}

/** Makes `rev` present locally and returns its commit SHA. */
async function obtain(
  git: Git,
  repoDir: string,
  rev: Revision,
  side: string,
  change: ChangeUnderTest,
  options: Required<Pick<WorktreeOptions, 'remote' | 'depth'>> & { log: (m: string) => void },
): Promise<string> {
  const shallow = (await git(['rev-parse', '--is-shallow-repository'], repoDir)) === 'true';
  const fetch = async (what: string) => {
    const args = ['fetch', '--no-tags', '--no-write-fetch-head', '--quiet', ...(shallow ? [`--depth=${options.depth}`] : []), options.remote, what];
    options.log(`git ${args.join(' ')}`);
    await git(args, repoDir);
  };
  const tries: string[] = [];
  const attempt = async (what: string, dst: string): Promise<boolean> => {
    try {
      await fetch(`+${what}:${dst}`);
      return true;
    } catch (e) {
      tries.push(`${what}: ${(e as Error).message}`);
      return false;
    }
  };
  // Fetched into a private ref so that the objects are reachable while the worktree exists.
  const holder = `refs/alloc-balance/${side}`;
  if (rev.sha !== '') {
    if (await hasCommit(git, repoDir, rev.sha)) return rev.sha;
    if (await attempt(rev.sha, holder)) {
      if (await hasCommit(git, repoDir, rev.sha)) return rev.sha;
    }
    // A fork's head lives in the base repository under refs/pull/N/head.
    if (side === 'head' && change.prNumber !== null && (await attempt(`refs/pull/${change.prNumber}/head`, holder))) {
      if (await hasCommit(git, repoDir, rev.sha)) return rev.sha;
      tries.push(`refs/pull/${change.prNumber}/head does not contain ${rev.sha} (the PR moved on)`);
    }
    throw new UsageError(`the ${side} commit ${rev.sha} cannot be fetched from ${options.remote}: ${tries.join('; ')}`);
  }
  const local = await resolveLocal(git, repoDir, rev.ref);
  if (local) return local;
  const name = rev.ref.startsWith('refs/') ? rev.ref : `refs/heads/${rev.ref}`;
  for (const candidate of rev.ref.startsWith('refs/') ? [rev.ref] : [name, `refs/tags/${rev.ref}`]) {
    if (await attempt(candidate, holder)) {
      const sha = await resolveLocal(git, repoDir, holder);
      if (sha) return sha;
    }
  }
  throw new UsageError(`the ${side} ref "${rev.ref}" is neither a local commit nor a branch or tag of ${options.remote}: ${tries.join('; ')}`);
}

/** Checks out base and head of `change` into `<workDir>/base` and `<workDir>/head`. */
export async function prepareWorktrees(repoDir: string, change: ChangeUnderTest, workDir: string, options: WorktreeOptions = {}): Promise<Worktrees> {
  const git = options.git ?? defaultGit;
  const opts = { remote: options.remote ?? 'origin', depth: options.depth ?? 1, log: options.log ?? (() => {}) };
  const repo = resolve(repoDir);
  const made: string[] = [];
  const holders: string[] = [];
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await removeWorktrees(repo, made.reverse(), holders, git);
  };
  try {
    await mkdir(workDir, { recursive: true });
    const result: Record<'base' | 'head', { dir: string; sha: string }> = { base: { dir: '', sha: '' }, head: { dir: '', sha: '' } };
    for (const side of ['base', 'head'] as const) {
      holders.push(`refs/alloc-balance/${side}`);
      const sha = await obtain(git, repo, change[side], side, change, opts);
      const dir = resolve(join(workDir, side));
      await rm(dir, { recursive: true, force: true });
      await git(['worktree', 'add', '--detach', '--force', dir, sha], repo);
      made.push(dir);
      result[side] = { dir, sha };
    }
    return { base: result.base.dir, head: result.head.dir, baseSha: result.base.sha, headSha: result.head.sha, dispose };
  } catch (error) {
    await dispose().catch(() => {});
    throw error;
  }
}

/**
 * Removes worktrees and the refs that held their commits; for the post step too, which knows
 * only the directories (saved with core.saveState) when the main step was cancelled.
 */
export async function removeWorktrees(
  repoDir: string,
  dirs: string[],
  refs: string[] = ['refs/alloc-balance/base', 'refs/alloc-balance/head'],
  git: Git = defaultGit,
): Promise<void> {
  const errors: string[] = [];
  for (const dir of dirs) {
    try {
      await git(['worktree', 'remove', '--force', dir], repoDir);
    } catch (e) {
      if (existsSync(dir)) errors.push((e as Error).message);
    }
    await rm(dir, { recursive: true, force: true });
  }
  for (const ref of refs) await git(['update-ref', '-d', ref], repoDir).catch(() => {});
  await git(['worktree', 'prune'], repoDir).catch((e: Error) => errors.push(e.message));
  if (errors.length > 0) throw new Error(`removing the worktrees: ${errors.join('; ')}`);
}
