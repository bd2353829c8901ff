// Every ```yaml block of README.md and docs/*.md, run as written by the runner emulation
// (test/support/runner): the jobs, their `if:`s and expressions, the matrix, the artifacts, and
// this repository's bundled action on the kni_like demo module - in a lab VM (`target: vm`), or
// with the lab VM standing for the self-hosted runner's kernel (`target: host`) - talking to the
// GitHub server on 127.0.0.1. Each block's test asserts what the block is there for; a block
// without a test here fails, and so does one the emulation cannot run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../src/core/model.js';
import type { LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { type GitHubServer, startGitHubServer } from '../support/github-server.js';
import {
  createDocumentedFixture,
  createDpdkFixture,
  type DocumentedFixture,
  mergeCommit,
  SYNTHETIC_DPDK,
  SYNTHETIC_RELEASE,
} from '../support/runner/documented-fixture.js';
import { runnerKernel } from '../support/runner/guest-action.js';
import { reindent, type YamlBlock, yamlBlocks } from '../support/runner/markdown-workflows.js';
import { type JobRun, RunnerEmulation, type Trigger, type WorkflowRun } from '../support/runner/runner-emulation.js';
import { ROOT, assertActionReady } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const REPO = 'nic-lab/kni-driver';
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const BLOCKS = DOCS.flatMap((f) => yamlBlocks(ROOT, f));

const work = useTempDir('ab-documented-');
let fixture: DocumentedFixture;
/** The synthetic DPDK tree, for the preset's workflows on a NIC runner. */
let dpdk: DocumentedFixture;
let dpdkRunner: RunnerEmulation;
let kernel: LabManifestEntry;
let runner: RunnerEmulation;
let server: GitHubServer | null = null;
const timings: Record<string, number> = {};

beforeAll(() => {
  kernel = runnerKernel();
  assertActionReady();
  fixture = createDocumentedFixture(work);
  runner = new RunnerEmulation({ work: join(work, 'runner'), repository: REPO, fixtureRepo: fixture.dir, defaultBranchSha: fixture.base, apiUrl: '', kernel });
  dpdk = createDpdkFixture(work, 'dpdk', SYNTHETIC_DPDK, SYNTHETIC_RELEASE);
  dpdkRunner = new RunnerEmulation({
    work: join(work, 'runner-dpdk'),
    repository: REPO,
    fixtureRepo: dpdk.dir,
    defaultBranchSha: dpdk.base,
    apiUrl: '',
    kernel,
  });
});
afterAll(() => {
  console.log(`documented workflows, seconds per block: ${JSON.stringify(timings)}`);
});
afterEach(async () => {
  if (!server) return;
  const s = server;
  server = null;
  expect(s.violations).toEqual([]);
  await s.close();
});

function block(key: string): YamlBlock {
  const b = BLOCKS.find((x) => x.key === key);
  if (!b) throw new Error(`no yaml block ${key} in ${DOCS.join(', ')}`);
  return b;
}

/** The docs' placeholders for this action: every `<owner>/alloc-balance@...` is this repository's bundle (the emulation maps it). */
function asWritten(b: YamlBlock): string {
  if (b.kind !== 'workflow') throw new Error(`${b.key} is a ${b.kind} block, not a workflow`);
  return b.text;
}

async function githubServer(repo = fixture): Promise<GitHubServer> {
  server = await startGitHubServer();
  runner.setup.apiUrl = server.url;
  dpdkRunner.setup.apiUrl = server.url;
  for (const file of ['pull_request', 'pull_request_fork'] as const) {
    const pr = pullRequestEvent(file, repo).pull_request;
    server.state.pulls.set(`${REPO}#${pr.number}`, pr);
  }
  return server;
}

function pullRequestEvent(file: 'pull_request' | 'pull_request_fork', repo = fixture): Record<string, any> {
  const payload = JSON.parse(readFileSync(join(ROOT, 'test/data/events', `${file}.json`), 'utf8'));
  payload.action = 'opened';
  payload.pull_request.base.sha = repo.base;
  payload.pull_request.head.sha = repo.head;
  return payload;
}

function pullRequest(file: 'pull_request' | 'pull_request_fork', repo = fixture): Trigger {
  const payload = pullRequestEvent(file, repo);
  return { name: 'pull_request', payload, sha: mergeCommit(repo, payload.number), ref: `refs/pull/${payload.number}/merge` };
}

async function timed(key: string, f: () => Promise<WorkflowRun>): Promise<WorkflowRun> {
  const run = await f();
  timings[key] = Math.round(run.seconds);
  return run;
}

function only(run: WorkflowRun, id: string): JobRun {
  const jobs = run.jobs.filter((j) => j.id === id);
  expect(jobs, run.jobs.map((j) => j.name).join(', ')).toHaveLength(1);
  return jobs[0];
}

function step(job: JobRun, label: RegExp) {
  const s = job.steps.find((x) => label.test(x.label));
  if (!s) throw new Error(`job ${job.name} has no step ${label}: ${job.steps.map((x) => x.label).join(', ')}`);
  return s;
}

function artifactReport(run: WorkflowRun, name: string): RunReport {
  return JSON.parse(readFileSync(join(run.artifacts, name, 'report.json'), 'utf8')) as RunReport;
}

function leakingSites(report: RunReport) {
  return report.comparison.rows.filter((r) => !r.total && r.status === 'new-leak').map((r) => [r.caller, r.pr?.leakedPerCycle]);
}

/** What a `fail` run of the fixture's PR posts: one comment, one check run on the head SHA, both failing at igb_like_probe, annotated at `source`. */
function expectPosted(s: GitHubServer, pr: number, source = 'kni_like.c', repo = fixture, site = /igb_like_probe/) {
  const comments = s.state.comments.get(`${REPO}#${pr}`) ?? [];
  expect(comments).toHaveLength(1);
  expect(comments[0].body).toMatch(new RegExp(`❌ fail: PR leaks 2 objects/cycle at ${site.source}`));
  const checks = s.state.checkRuns.filter((c) => c.head_sha === repo.head);
  expect(checks.map((c) => [c.name, c.status, c.conclusion])).toEqual([['alloc-balance', 'completed', 'failure']]);
  expect(checks[0].annotations.some((a: any) => a.path === source && a.annotation_level === 'failure')).toBe(true);
  return comments[0].body as string;
}

let collected: WorkflowRun | null = null;

const SCENARIOS: Record<string, () => Promise<void>> = {
  'README.md › Add it': async () => {
    const s = await githubServer();
    const run = await timed('README minimal', () => runner.run(asWritten(block('README.md › Add it')), pullRequest('pull_request')));
    const job = only(run, 'balance');
    expect(job.runnerEnvironment).toBe('github-hosted');
    const action = step(job, /alloc-balance@v1$/);
    expect(action.outputs.verdict, job.log).toBe('fail');
    expect(action.outputs['leaked-per-cycle']).toBe('2');
    expect(action.outputs['comment-url']).toMatch(/\/pull\/42#issuecomment-\d+$/);
    expect(action.outcome).toBe('failure');
    expect(run.conclusion).toBe('failure');
    // The annotation is at the line in the repository, under module-dir.
    expectPosted(s, 42, 'driver/kni_like.c');
    // if: always(): the artifact is uploaded although the step before failed; paths are relative to alloc-balance-out/.
    expect(step(job, /upload-artifact/).outcome).toBe('success');
    const report = artifactReport(run, 'alloc-balance');
    expect(report.runner.target).toBe('vm');
    expect(report.runner.name).toBe(job.runnerName);
    expect(leakingSites(report)).toEqual([['igb_like_probe', 2]]);
    expect(readdirSync(join(run.artifacts, 'alloc-balance'))).toEqual(expect.arrayContaining(['report.json', 'base', 'pr']));
    expect(readFileSync(join(run.artifacts, 'alloc-balance/pr/job.json'), 'utf8')).toMatch(/\.\.\/tools\/exercise-driver 2/);
  },

  'docs/workflows.md › Collect on `pull_request`': async () => {
    const s = await githubServer();
    const run = await timed('collect', () => runner.run(asWritten(block('docs/workflows.md › Collect on `pull_request`')), pullRequest('pull_request_fork')));
    const job = only(run, 'collect');
    expect(job.runnerEnvironment).toBe('github-hosted');
    expect(step(job, /alloc-balance@v1$/).outputs.verdict, job.log).toBe('fail');
    // collect writes nothing to GitHub: a fork PR's token is read-only.
    expect(s.requests.filter((q) => q.method !== 'GET')).toEqual([]);
    const artifact = `alloc-balance-${job.runnerName}`;
    expect(readdirSync(run.artifacts)).toEqual([artifact]);
    const report = artifactReport(run, artifact);
    expect(report.change?.headSha).toBe(fixture.head);
    expect(report.change?.prNumber).toBe(57);
    expect(leakingSites(report)).toEqual([['igb_like_probe', 2]]);
    collected = run;
  },

  'docs/workflows.md › Report on `workflow_run`': async () => {
    if (!collected) throw new Error('the report workflow runs after the collect workflow (its test above did not finish)');
    const s = await githubServer();
    const trigger = runner.workflowRunTrigger(collected);
    expect(trigger.payload.workflow_run).toMatchObject({ id: collected.id, head_sha: fixture.head, pull_requests: [], conclusion: 'failure' });
    const run = await timed('report', () => runner.run(asWritten(block('docs/workflows.md › Report on `workflow_run`')), trigger));
    const job = only(run, 'report');
    // It checked out nothing: the workspace holds the downloaded reports only.
    expect(readdirSync(job.workspace)).toEqual(['reports']);
    const action = step(job, /alloc-balance@v1$/);
    expect(action.outputs.verdict, job.log).toBe('fail');
    expect(action.outputs['comment-url']).toMatch(/\/pull\/57#issuecomment-\d+$/);
    expectPosted(s, 57);
    // The PR number was taken from the report only after the API confirmed the PR's head.
    expect(s.calls('pulls/get').map((q) => q.path)).toContain(`/repos/${REPO}/pulls/57`);
  },

  'docs/workflows.md › Manual dispatch': async () => {
    const s = await githubServer();
    const payload = JSON.parse(readFileSync(join(ROOT, 'test/data/events/workflow_dispatch.json'), 'utf8'));
    payload.inputs = { 'pr-number': '42' };
    const run = await timed('manual', () =>
      runner.run(asWritten(block('docs/workflows.md › Manual dispatch')), { name: 'workflow_dispatch', payload, sha: fixture.base, ref: 'refs/heads/main' }),
    );
    const job = only(run, 'balance');
    expect(job.runnerEnvironment).toBe('self-hosted');
    const action = step(job, /alloc-balance@v1$/);
    expect(action.outputs.verdict, job.log).toBe('fail');
    expect(action.vmSeconds).toBeGreaterThan(0);
    expectPosted(s, 42);
    // The module ran on the runner's own kernel (the lab VM's), base and head taken from PR 42.
    const report = JSON.parse(readFileSync(join(job.workspace, 'alloc-balance-out/report.json'), 'utf8')) as RunReport;
    expect(report.runner.target).toBe('host');
    expect(report.runner.kernel).toBe(kernel.release);
    expect(report.change).toMatchObject({ baseSha: fixture.base, headSha: fixture.head, prNumber: 42 });
  },

  'docs/workflows.md › A matrix over several runners, merged by one report job': async () => {
    const s = await githubServer();
    const run = await timed('matrix', () =>
      runner.run(asWritten(block('docs/workflows.md › A matrix over several runners, merged by one report job')), pullRequest('pull_request')),
    );
    const collects = run.jobs.filter((j) => j.id === 'collect');
    expect(collects.map((j) => [j.name, j.runnerName, j.runnerEnvironment])).toEqual([
      ['collect (nic-igb)', 'nic-igb', 'self-hosted'],
      ['collect (nic-ixgbe)', 'nic-ixgbe', 'self-hosted'],
      ['collect (nic-virtio)', 'nic-virtio', 'self-hosted'],
    ]);
    for (const j of collects) expect(step(j, /alloc-balance@v1$/).outputs.verdict, j.log).toBe('fail');
    expect(readdirSync(run.artifacts).sort()).toEqual(['alloc-balance-nic-igb', 'alloc-balance-nic-ixgbe', 'alloc-balance-nic-virtio']);
    for (const name of readdirSync(run.artifacts)) expect(artifactReport(run, name).runner.target).toBe('host');
    const report = only(run, 'report');
    expect(report.runnerEnvironment).toBe('github-hosted');
    // Each artifact in reports/<name>/, among its other JSON files: the glob picks the reports.
    expect(readdirSync(join(report.workspace, 'reports')).sort()).toEqual(['alloc-balance-nic-igb', 'alloc-balance-nic-ixgbe', 'alloc-balance-nic-virtio']);
    const action = step(report, /alloc-balance@v1$/);
    expect(action.outputs.verdict, report.log).toBe('fail');
    const body = expectPosted(s, 42);
    for (const r of ['nic-igb', 'nic-ixgbe', 'nic-virtio']) expect(body).toContain(r);
  },

  'docs/workflows.md › One PR on several kernels': async () => {
    const s = await githubServer();
    const run = await timed('kernels', () => runner.run(asWritten(block('docs/workflows.md › One PR on several kernels')), pullRequest('pull_request')));
    const collects = run.jobs.filter((j) => j.id === 'collect');
    expect(collects.map((j) => j.name)).toEqual(['collect (5.10)', 'collect (6.1)', 'collect (6.12)']);
    for (const j of collects) expect(step(j, /alloc-balance@v1$/).outputs.verdict, j.log).toBe('fail');
    // Each collect job ran on the kernel line it asked for, from Debian's archive.
    const names = readdirSync(run.artifacts).sort();
    expect(names).toEqual(['alloc-balance-linux-5.10', 'alloc-balance-linux-6.1', 'alloc-balance-linux-6.12']);
    const lines = names.map((n) => /^(\d+\.\d+)\./.exec(artifactReport(run, n).runner.kernel)?.[1]);
    expect(lines).toEqual(['5.10', '6.1', '6.12']);
    const report = only(run, 'report');
    expect(step(report, /alloc-balance@v1$/).outputs.verdict, report.log).toBe('fail');
    expectPosted(s, 42);
  },

  'docs/self-hosted-runner.md › Install the runner as a service, with labels': async () => {
    const b = block('docs/self-hosted-runner.md › Install the runner as a service, with labels');
    expect(b.kind).toBe('job-keys');
    // The block is a job's runs-on: a job of its own around it, with a step that says where it runs.
    const workflow = `name: labels\non: workflow_dispatch\njobs:\n  kni:\n${reindent(b.text, 4)}\n    steps:\n      - id: where\n        run: echo "runner=$RUNNER_NAME $RUNNER_ENVIRONMENT" >> "$GITHUB_OUTPUT"\n`;
    const run = await runner.run(workflow, {
      name: 'workflow_dispatch',
      payload: { inputs: {}, ref: 'refs/heads/main' },
      sha: fixture.base,
      ref: 'refs/heads/main',
    });
    const job = only(run, 'kni');
    expect(job.runsOn).toEqual(['self-hosted', 'linux', 'x64', 'kni-nic']);
    expect(job.steps[0].outputs.runner).toBe('kni-nic self-hosted');
  },
  // The NIC runner's workflows: the emulated self-hosted runner's kernel is a lab VM's, the
  // repository the synthetic DPDK tree (rte_kni and a stand-in for examples/kni that creates its
  // KNI interfaces through /dev/kni without a PMD). What this machine lacks is a NIC bound to DPDK:
  // with `dpdk-ports: nic` the stand-in creates vEth0 and vEth1 without one. Everything else - the
  // meson build of rte_kni.ko and of the example for the runner's own CPU, the hugepages, the
  // cycles, the GitHub writes - is the action's, as written.
  'docs/workflows.md › A required PR check on a self-hosted NIC runner': async () => {
    const s = await githubServer(dpdk);
    const run = await timed('NIC check', () =>
      dpdkRunner.run(asWritten(block('docs/workflows.md › A required PR check on a self-hosted NIC runner')), pullRequest('pull_request', dpdk)),
    );
    const job = only(run, 'balance');
    expect([job.runnerEnvironment, job.runnerName]).toEqual(['self-hosted', 'nic']);
    const action = step(job, /alloc-balance@v1$/);
    expect(action.outputs.verdict, job.log).toBe('fail');
    expect(action.outputs['leaked-per-cycle']).toBe('2');
    expectPosted(s, 42, SYNTHETIC_RELEASE.file, dpdk, /kni_ioctl/);
    const report = JSON.parse(readFileSync(join(job.workspace, 'alloc-balance-out/report.json'), 'utf8')) as RunReport;
    expect(report.runner).toMatchObject({ target: 'host', kernel: kernel.release });
    const netdev = report.comparison.rows.find((r) => r.pair === 'alloc_netdev_mqs:free_netdev' && r.total);
    expect(netdev?.pr?.growth).toEqual([2, 4, 6, 8, 10]);
    expect(netdev?.base?.growth).toEqual([0, 0, 0, 0, 0]);
    const jobFile = JSON.parse(readFileSync(join(job.workspace, 'alloc-balance-out/pr/job.json'), 'utf8'));
    // The NIC's ports: no net_null vdevs on target host.
    expect(jobFile.workload.command).toMatch(/dpdk-kni -l \S+ -n 4 -- -p 0x3 /);
  },

  'docs/self-hosted-runner.md › A minimal `preset: dpdk-kni` workflow for a NIC runner': async () => {
    const s = await githubServer(dpdk);
    const run = await timed('NIC runner preset', () =>
      dpdkRunner.run(
        asWritten(block('docs/self-hosted-runner.md › A minimal `preset: dpdk-kni` workflow for a NIC runner')),
        pullRequest('pull_request', dpdk),
      ),
    );
    const job = only(run, 'kni');
    expect([job.runnerEnvironment, job.runnerName]).toEqual(['self-hosted', 'kni-nic']);
    expect(step(job, /alloc-balance@/).outputs.verdict, job.log).toBe('fail');
    expectPosted(s, 42, SYNTHETIC_RELEASE.file, dpdk, /kni_ioctl/);
    expect(step(job, /upload-artifact/).outcome).toBe('success');
    const report = artifactReport(run, 'alloc-balance');
    expect(report.runner.target).toBe('host');
    expect(readFileSync(join(run.artifacts, 'alloc-balance/pr/job.json'), 'utf8')).toMatch(/"name": ?"rte_kni"/);
  },
};

/** Blocks run by a test file of their own: the README's preset step builds real DPDK (minutes), with the suite's other real-DPDK test. */
const RUN_ELSEWHERE: Record<string, string> = {
  'README.md › Add it #2': 'test/e2e/documented-dpdk-workflow.vm.test.ts',
};

describe('the workflows in README.md and docs/, run as written', () => {
  test('every yaml block of the docs has its run here, and the docs hold every block this test runs', () => {
    expect(BLOCKS.map((b) => b.key).sort()).toEqual([...Object.keys(SCENARIOS), ...Object.keys(RUN_ELSEWHERE)].sort());
    expect(BLOCKS).toHaveLength(10);
  });

  for (const b of BLOCKS) {
    test(b.key, async () => {
      const elsewhere = RUN_ELSEWHERE[b.key];
      if (elsewhere) {
        // That file runs the block by this key (and fails when the README no longer has it).
        expect(readFileSync(join(ROOT, elsewhere), 'utf8')).toContain(`'${b.key}'`);
        return;
      }
      const scenario = SCENARIOS[b.key];
      if (!scenario) throw new Error(`${b.file}:${b.line} (${b.key}) is a yaml block no test runs`);
      await scenario();
    }, 1_800_000);
  }
});
