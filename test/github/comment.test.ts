import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commentBody, commentMarker, digestLine, upsertComment } from '../../src/github/comment.js';
import { publishResults } from '../../src/github/publish.js';
import { COMMENT_MAX_CHARS } from '../../src/report/truncate.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { recordingLog, stepSummaryFile, testClient } from '../support/github-env.js';

const target = { owner: 'nic-lab', repo: 'kni-driver', issueNumber: 42, checkName: 'alloc-balance' };
let server: GitHubServer;
const summary = stepSummaryFile();

beforeEach(async () => {
  server = await startGitHubServer();
  summary.reset();
});
afterEach(async () => {
  expect(server.violations).toEqual([]);
  await server.close();
});

describe('the PR comment', () => {
  it('is created once, then found on page 2 of the listing and updated in place', async () => {
    // 130 comments by people: with 100 per page, this action's comment lands on page 2.
    server.addComments(
      'nic-lab',
      'kni-driver',
      42,
      Array.from({ length: 120 }, (_, i) => `review note ${i}`),
    );
    const client = testClient(server.url);
    const first = await upsertComment(client, target, '**PASS**: balanced, run 1');
    expect(first.action).toBe('created');
    server.addComments(
      'nic-lab',
      'kni-driver',
      42,
      Array.from({ length: 10 }, (_, i) => `later note ${i}`),
    );
    const second = await upsertComment(client, target, '**FAIL**: 2 netdevs leaked per cycle, run 2');
    expect(second.action).toBe('updated');
    expect(second.id).toBe(first.id);
    expect(second.url).toBe(`https://github.com/nic-lab/kni-driver/pull/42#issuecomment-${first.id}`);

    const comments = server.state.comments.get('nic-lab/kni-driver#42')!;
    const ours = comments.filter((c) => c.body.includes(commentMarker('alloc-balance')));
    expect(comments).toHaveLength(131);
    expect(ours).toHaveLength(1);
    expect(ours[0].body).toBe(`<!-- alloc-balance:alloc-balance -->\n**FAIL**: 2 netdevs leaked per cycle, run 2`);

    const lists = server.calls('issues/list-comments');
    // Run 1: pages 1 and 2 (no marker); run 2: found on page 2 and stopped there.
    expect(lists.map((r) => r.query.page ?? '1')).toEqual(['1', '2', '1', '2']);
    expect(lists.every((r) => r.query.per_page === '100')).toBe(true);
    expect(server.calls('issues/create-comment')).toHaveLength(1);
    expect(server.calls('issues/update-comment')).toHaveLength(1);
  });

  it('keeps one comment per check name', async () => {
    const client = testClient(server.url);
    await upsertComment(client, { ...target, checkName: 'alloc-balance (nic-a)' }, 'a');
    await upsertComment(client, { ...target, checkName: 'alloc-balance (nic-b)' }, 'b');
    await upsertComment(client, { ...target, checkName: 'alloc-balance (nic-a)' }, 'a2');
    const bodies = server.state.comments.get('nic-lab/kni-driver#42')!.map((c) => c.body);
    expect(bodies).toEqual(['<!-- alloc-balance:alloc-balance (nic-a) -->\na2', '<!-- alloc-balance:alloc-balance (nic-b) -->\nb']);
  });

  it('is cut to 65,536 characters with a note, and GitHub accepts it', async () => {
    const row = '| alloc_netdev_mqs:free_netdev | kni_ioctl_create | 2 | 0 | +2 |\n';
    const huge = row.repeat(Math.ceil(200_000 / row.length));
    const body = commentBody('alloc-balance', huge);
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(body.length).toBeGreaterThan(COMMENT_MAX_CHARS - 2100);
    expect(body).toMatch(/characters cut to fit GitHub's limit/);
    // Cut at a line end: no half row.
    expect(
      body
        .split('\n')
        .filter((l) => l.startsWith('| '))
        .every((l) => l === row.trimEnd()),
    ).toBe(true);
    const posted = await upsertComment(testClient(server.url), target, huge);
    expect(server.state.comments.get('nic-lab/kni-driver#42')![0].body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(posted.action).toBe('created');
  });

  it('a marker cannot be closed early by the check name', () => {
    expect(commentMarker('evil --> <b>x</b>')).toBe('<!-- alloc-balance:evil - bx/b -->');
  });
});

describe('input comment: when the comment is written', () => {
  const publish = (verdict: 'pass' | 'fail' | 'inconclusive', headline: string, markdown: string, comment: 'always' | 'on-change' | 'on-failure') =>
    publishResults(
      testClient(server.url),
      {
        repo: { owner: 'nic-lab', repo: 'kni-driver' },
        checkName: 'alloc-balance',
        prNumber: 42,
        headSha: null,
        verdict,
        headline,
        markdown,
        annotations: [],
        comment,
      },
      recordingLog(),
    );
  const ours = () => (server.state.comments.get('nic-lab/kni-driver#42') ?? []).filter((c) => c.body.includes(commentMarker('alloc-balance')));

  it('on-failure: a pass writes nothing on a PR without the comment; a failure does; a later pass updates it', async () => {
    const pass = await publish('pass', '✅ pass: no new leak', 'run 1', 'on-failure');
    expect(pass.commentUrl).toBeNull();
    expect(ours()).toHaveLength(0);
    expect(summary.read()).toBe('run 1\n');
    await publish('fail', '❌ fail: PR leaks 2 objects/cycle', 'run 2', 'on-failure');
    await publish('pass', '✅ pass: no new leak', 'run 3', 'on-failure');
    expect(ours().map((c) => c.body.split('\n').pop())).toEqual(['run 3']);
    expect(server.calls('issues/create-comment')).toHaveLength(1);
  });

  it('on-change: the same verdict line leaves the comment as it was; other figures update it', async () => {
    const first = await publish('fail', '❌ fail: PR leaks 2 objects/cycle at igb_like_probe (base 0)', 'run 1', 'on-change');
    const same = await publish('fail', '❌ fail: PR leaks 2 objects/cycle at igb_like_probe (base 0)', 'run 2', 'on-change');
    expect(same.commentUrl).toBe(first.commentUrl);
    expect(ours()[0].body).toContain('\nrun 1');
    expect(server.calls('issues/update-comment')).toHaveLength(0);
    await publish('fail', '❌ fail: PR leaks 1 object/cycle at igb_like_probe (base 0)', 'run 3', 'on-change');
    expect(ours()[0].body).toContain('\nrun 3');
    expect(ours()[0].body).toContain(digestLine('fail', '❌ fail: PR leaks 1 object/cycle at igb_like_probe (base 0)'));
    expect(server.calls('issues/update-comment')).toHaveLength(1);
  });

  it('always (the default) updates the one comment on every run: no older comment is left to hide', async () => {
    for (const run of ['run 1', 'run 2', 'run 3']) await publish('pass', '✅ pass', run, 'always');
    expect(ours()).toHaveLength(1);
    expect(ours()[0].body).toContain('\nrun 3');
    expect(server.calls('issues/update-comment')).toHaveLength(2);
  });
});

describe('publishing with a read-only token', () => {
  it('turns a 403 on comment create into a warning naming the permission, keeps the verdict, writes the summary', async () => {
    server.inject('issues/create-comment', {
      status: 403,
      body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment' },
    });
    const log = recordingLog();
    const outcome = await publishResults(
      testClient(server.url),
      {
        repo: { owner: 'nic-lab', repo: 'kni-driver' },
        checkName: 'alloc-balance',
        prNumber: 57,
        headSha: null,
        verdict: 'fail',
        headline: 'FAIL: the PR leaks 2 alloc_netdev_mqs per cycle',
        markdown: '### alloc-balance\n\n**FAIL**: the PR leaks 2 alloc_netdev_mqs per cycle\n',
        annotations: [],
      },
      log,
    );
    expect(outcome.verdict).toBe('fail');
    expect(outcome.commentUrl).toBeNull();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('`pull-requests: write`');
    expect(log.warnings[0]).toContain('HTTP 403');
    expect(outcome.warnings).toEqual(log.warnings);
    const written = summary.read();
    expect(written).toContain('**FAIL**: the PR leaks 2 alloc_netdev_mqs per cycle');
    expect(written).toContain('> [!WARNING]');
    expect(written).toContain('pull-requests: write');
    // One try: a permission error is not retried.
    expect(server.calls('issues/create-comment')).toHaveLength(1);
    expect(server.state.comments.get('nic-lab/kni-driver#57')).toBeUndefined();
  });

  it('posts comment, check run and summary when the token may write', async () => {
    const log = recordingLog();
    const outcome = await publishResults(
      testClient(server.url),
      {
        repo: { owner: 'nic-lab', repo: 'kni-driver' },
        checkName: 'alloc-balance',
        prNumber: 42,
        headSha: '4e7d2c9a1b0f8e3d6c5b4a39281706f5e4d3c2b1',
        verdict: 'pass',
        headline: 'PASS: balanced',
        markdown: 'table',
        annotations: [],
      },
      log,
    );
    expect(log.warnings).toEqual([]);
    expect(outcome.commentUrl).toMatch(/#issuecomment-\d+$/);
    expect(outcome.checkRunUrl).toMatch(/\/runs\/\d+$/);
    expect(server.state.checkRuns[0].conclusion).toBe('success');
    expect(summary.read()).toBe('table\n');
  });
});
