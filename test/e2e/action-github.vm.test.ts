// The bundled action talking to GitHub: a real HTTP server on 127.0.0.1 serves GitHub's REST
// routes and checks every request against GitHub's OpenAPI description. The kernel side is real
// too (the kni_like fixture in a VM).
//   - fork PR, full mode, self-hosted runner: refused before anything is built;
//   - fork PR, collect mode: the JSON report, and not one GitHub request;
//   - workflow_run, report mode, twice: one PR comment, updated in place; check runs with
//     annotations at the leaking source line;
//   - same-repository PR, full mode: comment, check run, outputs.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { ROOT, assertActionReady, kniLikeInputs, runActionAsync } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = join(ROOT, 'demo/kni-like');
const REPO = 'nic-lab/kni-driver';

const work = useTempDir('ab-e2e-gh-');
let repo: FixtureRepo;
let fixed = '';
let leaky = '';
let server: GitHubServer;

function event(name: string, mutate: (payload: Record<string, any>) => void) {
  const payload = JSON.parse(readFileSync(join(ROOT, 'test/data/events', `${name}.json`), 'utf8'));
  mutate(payload);
  return payload;
}

function pullRequestEvent(file: 'pull_request' | 'pull_request_fork') {
  return event(file, (p) => {
    p.pull_request.base.sha = fixed;
    p.pull_request.head.sha = leaky;
  });
}

function inputs(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return kniLikeInputs(repo.app, join(work, name, 'out'), { cycles: '2', 'github-token': 'ghs_test0000000000000000000000000000000', ...extra });
}

function env(extra: Record<string, string> = {}) {
  return { GITHUB_API_URL: server.url, GITHUB_REPOSITORY: REPO, ...extra };
}

beforeAll(() => {
  findLabKernel();
  assertActionReady();
  repo = createFixtureRepo(FIXTURE, join(work, 'repo'), ['fixed', 'leaky']);
  [fixed, leaky] = repo.shas;
});
beforeEach(async () => {
  server = await startGitHubServer();
});
afterEach(async () => {
  expect(server.violations).toEqual([]);
  await server.close();
});

describe('the action and GitHub', () => {
  test('a fork PR in full mode on a self-hosted runner is refused before anything is built', async () => {
    const r = await runActionAsync({
      dir: join(work, 'refused'),
      workspace: repo.dir,
      inputs: inputs('refused'),
      event: { name: 'pull_request', payload: pullRequestEvent('pull_request_fork') },
      env: env({ RUNNER_ENVIRONMENT: 'self-hosted' }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::.*fork/i);
    expect(r.stdout).toMatch(/collect/);
    expect(r.stdout).toMatch(/report/);
    expect(r.report).toBeNull();
    expect(server.calls('issues/create-comment')).toHaveLength(0);
  });

  test('fork PR: collect writes the report without GitHub writes; report mode posts it, and again updates the same comment', async () => {
    const collected = await runActionAsync({
      dir: join(work, 'collect'),
      workspace: repo.dir,
      inputs: inputs('collect', { mode: 'collect', 'github-token': '' }),
      event: { name: 'pull_request', payload: pullRequestEvent('pull_request_fork') },
      env: env({ RUNNER_ENVIRONMENT: 'github-hosted' }),
    });
    expect(collected.outputs.verdict, collected.stdout).toBe('fail');
    expect(collected.report?.change?.headSha).toBe(leaky);
    expect(collected.report?.change?.prNumber).toBe(57);
    expect(collected.summary).toMatch(/❌ fail/);
    expect(server.requests.filter((q) => q.method !== 'GET')).toHaveLength(0);

    // The trusted workflow: downloads the artifact into its own workspace and checks out nothing.
    const artifacts = join(work, 'artifacts');
    cpSync(join(work, 'collect', 'out', 'report.json'), join(artifacts, 'runner-a', 'report.json'));
    server.state.pulls.set(`${REPO}#57`, event('pull_request_fork', (p) => (p.pull_request.head.sha = leaky)).pull_request);
    const workflowRun = { name: 'workflow_run', payload: event('workflow_run_fork', (p) => (p.workflow_run.head_sha = leaky)) };
    const reportInputs = { mode: 'report', reports: `${artifacts}/**/report.json`, 'github-token': 'ghs_test0000000000000000000000000000000' };
    const first = await runActionAsync({ dir: join(work, 'report1'), workspace: artifacts, inputs: reportInputs, event: workflowRun, env: env() });
    expect(first.outputs.verdict, first.stdout).toBe('fail');
    expect(first.code).toBe(1);
    expect(first.outputs['comment-url']).toMatch(new RegExp(`^https://github.com/${REPO}/pull/57#issuecomment-\\d+$`));
    const second = await runActionAsync({ dir: join(work, 'report2'), workspace: artifacts, inputs: reportInputs, event: workflowRun, env: env() });
    expect(second.outputs['comment-url']).toBe(first.outputs['comment-url']);

    const comments = server.state.comments.get(`${REPO}#57`) ?? [];
    expect(comments).toHaveLength(1);
    expect(server.calls('issues/update-comment')).toHaveLength(1);
    expect(comments[0].body).toMatch(/<!-- alloc-balance:alloc-balance -->/);
    expect(comments[0].body).toMatch(/igb_like_probe/);
    const checks = server.state.checkRuns.filter((c) => c.head_sha === leaky);
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => c.conclusion === 'failure' && c.name === 'alloc-balance')).toBe(true);
    const annotations = server.calls('checks/create').flatMap((q) => (q.body as any).output?.annotations ?? []);
    expect(annotations.some((a: any) => a.path === 'kni_like.c' && a.start_line > 0 && a.annotation_level === 'failure')).toBe(true);
  });

  test('same-repository PR in full mode: comment, check run and outputs', async () => {
    const r = await runActionAsync({
      dir: join(work, 'full'),
      workspace: repo.dir,
      inputs: inputs('full'),
      event: { name: 'pull_request', payload: pullRequestEvent('pull_request') },
      env: env({ RUNNER_ENVIRONMENT: 'self-hosted' }),
    });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.outputs['leaked-per-cycle']).toBe('2');
    expect(r.outputs['comment-url']).toMatch(/\/pull\/42#issuecomment-\d+$/);
    expect(server.state.comments.get(`${REPO}#42`)).toHaveLength(1);
    const [check] = server.calls('checks/create');
    expect((check.body as any).head_sha).toBe(leaky);
    expect((check.body as any).conclusion).toBe('failure');
    expect((check.body as any).output.summary).toMatch(/alloc_netdev_mqs:free_netdev/);
    expect(r.summary).toMatch(/igb_like_probe/);
  });
});
