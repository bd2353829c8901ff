import { describe, expect, it } from 'vitest';
import { resolveChange, type ChangeUnderTest } from '../../src/github/event.js';
import { assertSafeToRun, decideSafety, SafetyRefusal } from '../../src/github/safety.js';
import { useGitHubServer } from '../support/github-server.js';
import { eventContext, loadEvent, testClient } from '../support/github-env.js';

const repo = { owner: 'nic-lab', repo: 'kni-driver' };
const none = { baseRef: '', headRef: '', prNumber: null };

const server = useGitHubServer();

async function change(eventName: string, fixture: string): Promise<ChangeUnderTest> {
  return resolveChange(eventContext(eventName, fixture), none, null);
}

function labeledEvent(label: string, at: string, event = 'labeled') {
  return {
    id: 15000000000 + Date.parse(at) / 1000,
    node_id: 'LE_lADO',
    url: 'https://api.github.com/repos/nic-lab/kni-driver/issues/events/1',
    actor: { login: 'maintainer-ann', id: 5011, type: 'User', site_admin: false },
    event,
    commit_id: null,
    commit_url: null,
    created_at: at,
    label: { name: label, color: '0e8a16' },
    performed_via_github_app: null,
  };
}

/** PR #57 from a fork whose last push was at `pushedAt`, carrying `labels`, with these timeline events. */
function forkPull(pushedAt: string, labels: string[], events: object[]) {
  const pull = structuredClone(loadEvent('pull_request_fork_reopened').pull_request);
  pull.head.repo.pushed_at = pushedAt;
  pull.labels = labels.map((name, i) => ({ id: i + 1, node_id: 'LA', url: '', name, color: '0e8a16', default: false, description: null }));
  server.state.pulls.set('nic-lab/kni-driver#57', pull);
  server.state.issueEvents.set('nic-lab/kni-driver#57', events);
}

const selfHosted = { mode: 'full' as const, runnerEnvironment: 'self-hosted', allowForkCode: false, approvalLabel: '' };

describe('fork PRs in full mode', () => {
  it('are refused on a self-hosted runner, with the way out', async () => {
    const c = await change('pull_request', 'pull_request_fork_reopened');
    const refusal = await assertSafeToRun(testClient(server.url), repo, { ...selfHosted, change: c }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SafetyRefusal);
    expect((refusal as Error).message).toMatch(
      /refusing to build and load fork code \(eve-contrib\/kni-driver@4e7d2c9a1b0f\) in full mode on a self-hosted runner/,
    );
    expect((refusal as Error).message).toContain('mode: collect');
    expect((refusal as Error).message).toContain('docs/workflows.md#fork-pull-requests');
    expect(server.requests).toHaveLength(0);
  });

  it('are allowed with an approval label applied after the last push', async () => {
    forkPull(
      '2025-03-10T09:12:44Z',
      ['safe-to-test'],
      [
        labeledEvent('safe-to-test', '2025-03-09T18:00:00Z'),
        labeledEvent('safe-to-test', '2025-03-09T18:30:00Z', 'unlabeled'),
        { ...labeledEvent('', '2025-03-10T09:12:45Z', 'head_ref_force_pushed'), label: undefined },
        labeledEvent('safe-to-test', '2025-03-10T09:20:00Z'),
      ],
    );
    const c = await change('pull_request', 'pull_request_fork_reopened');
    const ok = await assertSafeToRun(testClient(server.url), repo, { ...selfHosted, approvalLabel: 'safe-to-test', change: c });
    expect(ok.why).toMatch(/label "safe-to-test" applied 2025-03-10T09:20:00.000Z, after the last push/);
    expect(server.calls('pulls/get')).toHaveLength(1);
    expect(server.calls('issues/list-events')).toHaveLength(1);
  });

  it('are refused when the label predates the last push to the head', async () => {
    forkPull('2025-03-10T09:12:44Z', ['safe-to-test'], [labeledEvent('safe-to-test', '2025-03-09T18:00:00Z')]);
    const c = await change('pull_request', 'pull_request_fork_reopened');
    await expect(assertSafeToRun(testClient(server.url), repo, { ...selfHosted, approvalLabel: 'safe-to-test', change: c })).rejects.toThrow(
      new RegExp(
        /the label "safe-to-test" \(2025-03-09T18:00:00.000Z\) predates the last push to the head /.source +
          /\(2025-03-10T09:12:44.000Z\); apply it again to approve 4e7d2c9a1b0f/.source,
      ),
    );
  });

  it('are refused when a force-push followed the label', async () => {
    forkPull(
      '2025-03-09T10:00:00Z',
      ['safe-to-test'],
      [labeledEvent('safe-to-test', '2025-03-09T18:00:00Z'), { ...labeledEvent('', '2025-03-09T19:00:00Z', 'head_ref_force_pushed'), label: undefined }],
    );
    const c = await change('pull_request', 'pull_request_fork_reopened');
    await expect(assertSafeToRun(testClient(server.url), repo, { ...selfHosted, approvalLabel: 'safe-to-test', change: c })).rejects.toThrow(
      /predates the last push/,
    );
  });

  it('are refused when the PR head moved after the run was triggered, or the label was removed', async () => {
    forkPull('2025-03-10T09:00:00Z', ['safe-to-test'], [labeledEvent('safe-to-test', '2025-03-10T09:20:00Z')]);
    server.state.pulls.get('nic-lab/kni-driver#57')!.head.sha = 'ffffffffffffffffffffffffffffffffffffffff';
    const c = await change('pull_request', 'pull_request_fork_reopened');
    await expect(assertSafeToRun(testClient(server.url), repo, { ...selfHosted, approvalLabel: 'safe-to-test', change: c })).rejects.toThrow(
      /head moved to ffffffffffff/,
    );
    forkPull('2025-03-10T09:00:00Z', [], [labeledEvent('safe-to-test', '2025-03-10T09:20:00Z')]);
    await expect(assertSafeToRun(testClient(server.url), repo, { ...selfHosted, approvalLabel: 'safe-to-test', change: c })).rejects.toThrow(
      /does not carry the label "safe-to-test"/,
    );
  });

  it('the labeled event itself approves the SHA it carries; a push (synchronize) never does', async () => {
    const labeled = await change('pull_request', 'pull_request_fork_labeled');
    const ok = await assertSafeToRun(testClient(server.url), repo, { ...selfHosted, approvalLabel: 'safe-to-test', change: labeled });
    expect(ok.why).toMatch(/applied to 4e7d2c9a1b0f \(this run's trigger\)/);
    const sync = await change('pull_request', 'pull_request_fork');
    await expect(assertSafeToRun(testClient(server.url), repo, { ...selfHosted, approvalLabel: 'safe-to-test', change: sync })).rejects.toThrow(
      /new commits were pushed; apply the label "safe-to-test" again/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('pull_request_target never checks out a fork head unless allow-fork-code', async () => {
    const c = await change('pull_request_target', 'pull_request_target_fork');
    for (const runnerEnvironment of ['github-hosted', 'self-hosted']) {
      const d = decideSafety({ ...selfHosted, runnerEnvironment, approvalLabel: 'safe-to-test', change: c });
      expect(d).toMatchObject({ allowed: false, why: expect.stringContaining('under pull_request_target') });
    }
    expect(decideSafety({ ...selfHosted, runnerEnvironment: 'github-hosted', allowForkCode: true, change: c }).allowed).toBe(true);
  });

  it('other cases: same-repo PRs, hosted runners, report mode, collect mode, allow-fork-code', async () => {
    const own = await change('pull_request', 'pull_request');
    const fork = await change('pull_request', 'pull_request_fork');
    expect(decideSafety({ ...selfHosted, change: own }).allowed).toBe(true);
    const queue = await change('merge_group', 'merge_group');
    expect(decideSafety({ ...selfHosted, change: queue })).toMatchObject({ allowed: true, why: 'the head is in this repository' });
    expect(decideSafety({ ...selfHosted, runnerEnvironment: 'github-hosted', change: fork }).allowed).toBe(true);
    expect(decideSafety({ ...selfHosted, runnerEnvironment: '', change: fork }).allowed).toBe(false);
    expect(decideSafety({ ...selfHosted, mode: 'report', change: fork }).allowed).toBe(true);
    expect(decideSafety({ ...selfHosted, allowForkCode: true, change: fork }).allowed).toBe(true);
    expect(decideSafety({ ...selfHosted, mode: 'collect', runnerEnvironment: 'github-hosted', change: fork })).toMatchObject({ allowed: true, warnings: [] });
    expect(decideSafety({ ...selfHosted, mode: 'collect', change: own }).allowed).toBe(true);
  });
});

describe('fork PRs in collect mode on a self-hosted runner', () => {
  const collect = { ...selfHosted, mode: 'collect' as const };

  it('are refused without an approval label or allow-fork-code, naming the three ways out', async () => {
    const c = await change('pull_request', 'pull_request_fork_reopened');
    const refusal = await assertSafeToRun(testClient(server.url), repo, { ...collect, change: c }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SafetyRefusal);
    const message = (refusal as Error).message;
    expect(message).toMatch(/^refusing to build and load fork code \(eve-contrib\/kni-driver@4e7d2c9a1b0f\) in collect mode on a self-hosted runner: /);
    expect(message).toContain('mode: collect with target: vm on a GitHub-hosted runner');
    expect(message).toContain('approval-label');
    expect(message).toContain('allow-fork-code: true');
    // An empty RUNNER_ENVIRONMENT (an older runner) counts as self-hosted.
    expect(decideSafety({ ...collect, runnerEnvironment: '', change: c }).allowed).toBe(false);
    expect(server.requests).toHaveLength(0);
  });

  it('are allowed with an approval label applied after the last push, read from the API', async () => {
    forkPull('2025-03-10T09:12:44Z', ['safe-to-test'], [labeledEvent('safe-to-test', '2025-03-10T09:20:00Z')]);
    const c = await change('pull_request', 'pull_request_fork_reopened');
    const ok = await assertSafeToRun(testClient(server.url), repo, { ...collect, approvalLabel: 'safe-to-test', change: c });
    expect(ok).toEqual({ why: expect.stringMatching(/label "safe-to-test" applied 2025-03-10T09:20:00.000Z, after the last push/), warnings: [] });
    expect(server.calls('pulls/get')).toHaveLength(1);
    expect(server.calls('issues/list-events')).toHaveLength(1);
  });

  it('are refused when the label predates the last push to the head', async () => {
    forkPull('2025-03-10T09:12:44Z', ['safe-to-test'], [labeledEvent('safe-to-test', '2025-03-09T18:00:00Z')]);
    const c = await change('pull_request', 'pull_request_fork_reopened');
    const refusal = await assertSafeToRun(testClient(server.url), repo, { ...collect, approvalLabel: 'safe-to-test', change: c }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(SafetyRefusal);
    expect((refusal as Error).message).toMatch(
      /in collect mode on a self-hosted runner: the label "safe-to-test" \(2025-03-09T18:00:00.000Z\) predates the last push/,
    );
    expect((refusal as Error).message).toContain('on a GitHub-hosted runner');
  });

  it('are allowed with allow-fork-code', async () => {
    const c = await change('pull_request', 'pull_request_fork');
    const ok = await assertSafeToRun(testClient(server.url), repo, { ...collect, allowForkCode: true, change: c });
    expect(ok).toEqual({ why: 'allow-fork-code is true', warnings: [] });
    expect(server.requests).toHaveLength(0);
  });
});
