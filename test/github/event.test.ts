import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEventContext, resolveChange } from '../../src/github/event.js';
import { InputError, UsageError } from '../../src/errors.js';
import { useGitHubServer } from '../support/github-server.js';
import { eventContext, eventPath, loadEvent, testClient } from '../support/github-env.js';
import { useTempDir } from '../support/temp-dir.js';

const BASE = '9f2c1e0b7d4a3c58e6f1a2b3c4d5e6f708192a3b';
const HEAD = '4e7d2c9a1b0f8e3d6c5b4a39281706f5e4d3c2b1';
const none = { baseRef: '', headRef: '', prNumber: null };

const server = useGitHubServer();
const scratch = useTempDir('alloc-balance-event-');

describe('resolving what to compare', () => {
  it('pull_request from a branch of this repository', async () => {
    const change = await resolveChange(eventContext('pull_request', 'pull_request'), none, null);
    expect(change).toEqual({
      event: 'pull_request',
      action: 'opened',
      repository: 'nic-lab/kni-driver',
      base: { ref: 'main', sha: BASE },
      head: { ref: 'fix-lad-dev-leak', sha: HEAD },
      prNumber: 42,
      isFork: false,
      headRepo: 'nic-lab/kni-driver',
    });
  });

  it('pull_request from a fork, and the label of a labeled event', async () => {
    const sync = await resolveChange(eventContext('pull_request', 'pull_request_fork'), none, null);
    expect(sync).toMatchObject({ action: 'synchronize', isFork: true, headRepo: 'eve-contrib/kni-driver', prNumber: 57, head: { sha: HEAD } });
    const labeled = await resolveChange(eventContext('pull_request', 'pull_request_fork_labeled'), none, null);
    expect(labeled).toMatchObject({ action: 'labeled', label: 'safe-to-test', isFork: true });
  });

  it('pull_request_target keeps the PR head SHA (the safety check decides about checking it out)', async () => {
    const change = await resolveChange(eventContext('pull_request_target', 'pull_request_target_fork'), none, null);
    expect(change).toMatchObject({ event: 'pull_request_target', isFork: true, head: { sha: HEAD }, base: { sha: BASE } });
  });

  it('a deleted fork counts as a fork', async () => {
    const ctx = eventContext('pull_request', 'pull_request_fork');
    (ctx.payload as any).pull_request.head.repo = null;
    const change = await resolveChange(ctx, none, null);
    expect(change).toMatchObject({ isFork: true, headRepo: '' });
  });

  it('workflow_dispatch with pr-number reads the PR from the API', async () => {
    server.state.pulls.set('nic-lab/kni-driver#57', loadEvent('pull_request_fork').pull_request);
    const change = await resolveChange(eventContext('workflow_dispatch', 'workflow_dispatch'), { ...none, prNumber: 57 }, testClient(server.url));
    expect(change).toMatchObject({
      event: 'workflow_dispatch',
      prNumber: 57,
      isFork: true,
      base: { ref: 'main', sha: BASE },
      head: { ref: 'main', sha: HEAD },
    });
    expect(server.calls('pulls/get').map((r) => r.path)).toEqual(['/repos/nic-lab/kni-driver/pulls/57']);
  });

  it('workflow_dispatch with refs: base from base-ref, head from GITHUB_SHA', async () => {
    const change = await resolveChange(eventContext('workflow_dispatch', 'workflow_dispatch_refs'), { ...none, baseRef: 'v22.11' }, null);
    expect(change).toMatchObject({
      base: { ref: 'v22.11', sha: '' },
      head: { ref: 'refs/heads/main', sha: 'c0ffee00d15ea5e0123456789abcdef012345678' },
      prNumber: null,
      isFork: false,
    });
    const explicit = await resolveChange(eventContext('workflow_dispatch', 'workflow_dispatch_refs'), { ...none, baseRef: BASE, headRef: 'topic' }, null);
    expect(explicit).toMatchObject({ base: { ref: BASE, sha: BASE }, head: { ref: 'topic', sha: '' } });
    await expect(resolveChange(eventContext('workflow_dispatch', 'workflow_dispatch_refs'), none, null)).rejects.toThrow(
      /input "base-ref": missing; expected a commit or ref to compare against, or pr-number/,
    );
  });

  it('push compares before with after; a new branch needs base-ref', async () => {
    const change = await resolveChange(eventContext('push', 'push'), none, null);
    expect(change).toMatchObject({ event: 'push', base: { sha: BASE }, head: { ref: 'refs/heads/main', sha: HEAD }, prNumber: null, isFork: false });
    await expect(resolveChange(eventContext('push', 'push_new_branch'), none, null)).rejects.toBeInstanceOf(InputError);
    const given = await resolveChange(eventContext('push', 'push_new_branch'), { ...none, baseRef: 'main' }, null);
    expect(given.base).toEqual({ ref: 'main', sha: '' });
  });

  it('workflow_run takes the PR from pull_requests[], and from nothing for a fork run', async () => {
    const own = await resolveChange(eventContext('workflow_run', 'workflow_run'), none, null);
    expect(own).toMatchObject({
      prNumber: 42,
      isFork: false,
      head: { sha: HEAD },
      base: { sha: BASE },
      workflowRun: { id: 13800000001, event: 'pull_request', headSha: HEAD },
    });
    const fork = await resolveChange(eventContext('workflow_run', 'workflow_run_fork'), none, null);
    expect(fork).toMatchObject({ prNumber: null, isFork: true, headRepo: 'eve-contrib/kni-driver', base: { sha: '' } });
    const given = await resolveChange(eventContext('workflow_run', 'workflow_run_fork'), { ...none, prNumber: 57 }, null);
    expect(given.prNumber).toBe(57);
  });

  it("merge_group compares the queue's merge commit with the base branch: no PR, not a fork", async () => {
    const MERGE = 'b7e14c2d90a3f5e6d7c8b9a0f1e2d3c4b5a69788';
    const change = await resolveChange(eventContext('merge_group', 'merge_group', { sha: MERGE }), none, null);
    expect(change).toEqual({
      event: 'merge_group',
      action: 'checks_requested',
      repository: 'nic-lab/kni-driver',
      base: { ref: 'refs/heads/main', sha: BASE },
      head: { ref: `refs/heads/gh-readonly-queue/main/pr-42-${BASE}`, sha: MERGE },
      prNumber: null,
      isFork: false,
      headRepo: 'nic-lab/kni-driver',
    });
    // The merge commit's check run is the one the queue waits for.
    expect(loadEvent('merge_group').merge_group.head_commit.id).toBe(change.head.sha);
    const ctx = eventContext('merge_group', 'merge_group');
    delete (ctx.payload as any).merge_group.base_sha;
    await expect(resolveChange(ctx, none, null)).rejects.toThrow(
      new UsageError('the merge_group event payload has no merge_group.base_sha: is GITHUB_EVENT_PATH the payload of this event?'),
    );
  });

  it('refuses an unsupported event by name', async () => {
    await expect(resolveChange(eventContext('issue_comment', 'issue_comment'), none, null)).rejects.toThrow(
      /the issue_comment event is not supported: run this action on pull_request, pull_request_target, merge_group, workflow_dispatch, push, workflow_run/,
    );
  });

  it('names the missing payload field', async () => {
    const ctx = eventContext('pull_request', 'pull_request');
    delete (ctx.payload as any).pull_request.head.sha;
    await expect(resolveChange(ctx, none, null)).rejects.toThrow(
      new UsageError('the pull_request event payload has no pull_request.head.sha: is GITHUB_EVENT_PATH the payload of this event?'),
    );
  });

  it('reads the runner environment', () => {
    const ctx = readEventContext({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath('push'),
      GITHUB_SHA: HEAD,
      GITHUB_REPOSITORY: 'nic-lab/kni-driver',
      GITHUB_REF: 'refs/heads/main',
    });
    expect(ctx).toMatchObject({ eventName: 'push', sha: HEAD, repository: 'nic-lab/kni-driver' });
    expect(ctx.payload.after).toBe(HEAD);
    writeFileSync(join(scratch, 'event.json'), '{ not json');
    expect(() => readEventContext({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(scratch, 'event.json') })).toThrow(/is not JSON/);
    expect(() => readEventContext({})).toThrow(/GITHUB_EVENT_NAME is not set/);
  });
});
