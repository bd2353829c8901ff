import { describe, expect, it } from 'vitest';
import { conclusionFor, findOpenCheckRun, publishCheckRun, toAnnotations } from '../../src/github/check-run.js';
import type { AnnotationInput } from '../../src/report/annotations.js';
import { describeApiError } from '../../src/github/permissions.js';
import { useGitHubServer } from '../support/github-server.js';
import { testClient } from '../support/github-env.js';

const server = useGitHubServer();

const HEAD = '4e7d2c9a1b0f8e3d6c5b4a39281706f5e4d3c2b1';

function leaks(n: number): AnnotationInput[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `kernel/linux/kni/kni_net${i % 3}.c`,
    line: 100 + i,
    message: `alloc_netdev_mqs at this line leaks 1 object per cycle (${i})`,
    level: i % 2 === 0 ? ('failure' as const) : ('warning' as const),
    title: 'memory leak in kni_ioctl_create',
  }));
}

describe('the check run', () => {
  it('sends 120 annotations as a create with 50 and two PATCHes of 50 and 20', async () => {
    const run = await publishCheckRun(testClient(server.url), {
      owner: 'nic-lab',
      repo: 'kni-driver',
      name: 'alloc-balance',
      headSha: HEAD,
      verdict: 'fail',
      title: 'FAIL: the PR leaks 2 alloc_netdev_mqs per cycle\nsecond line dropped',
      summary: '| pair | base | PR |\n|---|---|---|\n| alloc_netdev_mqs:free_netdev | 0 | 2 |',
      annotations: leaks(120),
    });
    expect(run.annotationRequests).toBe(3);
    expect(run.conclusion).toBe('failure');
    const creates = server.calls('checks/create');
    const updates = server.calls('checks/update');
    expect(creates).toHaveLength(1);
    expect(updates).toHaveLength(2);
    const batchSizes = [creates[0], ...updates].map((r) => (r.body as any).output.annotations.length);
    expect(batchSizes).toEqual([50, 50, 20]);
    expect(updates.every((r) => r.path === `/repos/nic-lab/kni-driver/check-runs/${run.id}`)).toBe(true);
    const stored = server.state.checkRuns[0];
    expect(stored.head_sha).toBe(HEAD);
    expect(stored.name).toBe('alloc-balance');
    expect(stored.status).toBe('completed');
    expect(stored.output.title).toBe('FAIL: the PR leaks 2 alloc_netdev_mqs per cycle');
    expect(stored.annotations).toHaveLength(120);
    expect(stored.annotations[119]).toEqual({
      path: 'kernel/linux/kni/kni_net2.c',
      start_line: 219,
      end_line: 219,
      annotation_level: 'warning',
      message: 'alloc_netdev_mqs at this line leaks 1 object per cycle (119)',
      title: 'memory leak in kni_ioctl_create',
    });
    expect(run.url).toBe(stored.html_url);
  });

  it('maps verdicts to conclusions (inconclusive: failure unless the input says neutral), with no annotation request when there is nothing to annotate', async () => {
    expect(conclusionFor('pass')).toBe('success');
    expect(conclusionFor('fail')).toBe('failure');
    expect(conclusionFor('inconclusive')).toBe('failure');
    expect(conclusionFor('inconclusive', 'fail')).toBe('failure');
    expect(conclusionFor('inconclusive', 'neutral')).toBe('neutral');
    expect(conclusionFor('pass', 'neutral')).toBe('success');
    for (const [verdict, inconclusive] of [
      ['pass', 'fail'],
      ['inconclusive', 'fail'],
      ['inconclusive', 'neutral'],
    ] as const) {
      const run = await publishCheckRun(testClient(server.url), {
        owner: 'nic-lab',
        repo: 'kni-driver',
        name: 'alloc-balance',
        headSha: HEAD,
        verdict,
        inconclusive,
        title: verdict,
        summary: 'x'.repeat(70_000),
        annotations: [],
      });
      expect(run.annotationRequests).toBe(0);
    }
    expect(server.state.checkRuns.map((r) => r.conclusion)).toEqual(['success', 'failure', 'neutral']);
    // The 65,535-character summary limit is in GitHub's schema: the server would have refused more.
    expect(server.state.checkRuns.every((r) => r.output.summary.length <= 65_535)).toBe(true);
    expect(server.calls('checks/update')).toHaveLength(0);
  });

  it('drops annotations without a usable location and strips ./', () => {
    expect(
      toAnnotations([
        { path: './kni_misc.c', line: 7, message: 'm' },
        { path: '', line: 3, message: 'no file' },
        { path: 'a.c', line: 0, message: 'no line' },
      ]),
    ).toEqual([{ path: 'kni_misc.c', start_line: 7, end_line: 7, annotation_level: 'failure', message: 'm' }]);
  });

  it('names checks: write when the token may not create check runs', async () => {
    server.inject('checks/create', { status: 403, body: { message: 'Resource not accessible by integration' } });
    const error = await publishCheckRun(testClient(server.url), {
      owner: 'nic-lab',
      repo: 'kni-driver',
      name: 'alloc-balance',
      headSha: HEAD,
      verdict: 'pass',
      title: 't',
      summary: 's',
      annotations: [],
    }).catch((e: unknown) => e);
    expect((error as { status: number }).status).toBe(403);
    expect(describeApiError(error, 'Creating the check run', 'checkRun')).toMatch(/lacks `checks: write`/);
  });
});

describe('an open check run of the same name', () => {
  const repo = { owner: 'nic-lab', repo: 'kni-driver' };
  const RUN_ID = '14120386231';

  it("is completed in place, annotations and all; the report job's own job and finished runs are left alone", async () => {
    const gh = testClient(server.url);
    const create = (fields: Record<string, string>) => gh.rest.checks.create({ ...repo, name: 'alloc-balance', head_sha: HEAD, ...fields });
    const done = await create({ status: 'completed', conclusion: 'success' });
    const queued = await create({ status: 'queued' });
    const ownJob = await create({ status: 'in_progress', details_url: `https://github.com/nic-lab/kni-driver/actions/runs/${RUN_ID}/job/40000000001` });
    await gh.rest.checks.create({ ...repo, name: 'other-check', head_sha: HEAD, status: 'queued' });
    await gh.rest.checks.create({ ...repo, name: 'alloc-balance', head_sha: 'a'.repeat(40), status: 'queued' });

    const open = await findOpenCheckRun(gh, { ...repo, name: 'alloc-balance', headSha: HEAD, ownRunId: RUN_ID });
    expect(open).toBe(queued.data.id);
    const [list] = server.calls('checks/list-for-ref');
    expect(list.path).toBe(`/repos/nic-lab/kni-driver/commits/${HEAD}/check-runs`);
    expect(list.query).toMatchObject({ check_name: 'alloc-balance', filter: 'all' });

    const creates = server.calls('checks/create').length;
    const run = await publishCheckRun(gh, {
      ...repo,
      name: 'alloc-balance',
      headSha: HEAD,
      verdict: 'fail',
      title: 'FAIL',
      summary: 'the table',
      annotations: leaks(60),
      existingId: open!,
    });
    expect(server.calls('checks/create')).toHaveLength(creates);
    expect(run).toMatchObject({ id: queued.data.id, conclusion: 'failure', annotationRequests: 2 });
    const byId = (id: number) => server.state.checkRuns.find((r) => r.id === id)!;
    expect(byId(queued.data.id)).toMatchObject({ status: 'completed', conclusion: 'failure', output: { title: 'FAIL', summary: 'the table' } });
    expect(byId(queued.data.id).annotations).toHaveLength(60);
    expect(byId(queued.data.id).completed_at).not.toBeNull();
    expect(byId(ownJob.data.id).status).toBe('in_progress');
    expect(byId(done.data.id).conclusion).toBe('success');
  });

  it('none open: null', async () => {
    const gh = testClient(server.url);
    await gh.rest.checks.create({ ...repo, name: 'alloc-balance', head_sha: HEAD, status: 'completed', conclusion: 'failure' });
    expect(await findOpenCheckRun(gh, { ...repo, name: 'alloc-balance', headSha: HEAD })).toBeNull();
  });
});
