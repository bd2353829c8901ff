// report mode under workflow_run, the fork-safe pattern, as a required check sees it: the check run
// lands on the commit the collect run tested, completes one that is already waiting there, and is
// completed even when the collect run left no report.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/model.js';
import { NoReportError } from '../../src/github/reports.js';
import { runPipeline, type PipelineIo } from '../../src/run/pipeline.js';
import { parseSettings } from '../../src/settings/settings.js';
import { useGitHubServer } from '../support/github-server.js';
import { eventPath, FAST_RETRY, loadEvent, stepSummaryFile, testClient } from '../support/github-env.js';
import { HEAD_SHA, recordedReport } from '../support/recorded-report.js';
import { useTempDir } from '../support/temp-dir.js';

const TOKEN = 'ghs_test0000000000000000000000000000000';
const REPO = { owner: 'nic-lab', repo: 'kni-driver' };
const RUN_ID = '14120386231';
const COLLECT_RUN = 13800000002; // workflow_run_fork's workflow_run.id
const summary = stepSummaryFile();
const scratch = useTempDir('alloc-balance-report-mode-');
let dir = '';

const server = useGitHubServer();

beforeEach(() => {
  dir = mkdtempSync(join(scratch, 'case-'));
  summary.reset();
  server.state.pulls.set('nic-lab/kni-driver#57', loadEvent('pull_request_fork').pull_request);
});

function artifact(report: RunReport | null): void {
  const at = join(dir, 'artifacts', 'alloc-balance-nic-runner-1');
  mkdirSync(join(at, 'base'), { recursive: true });
  writeFileSync(join(at, 'base', 'status.json'), JSON.stringify({ schema: 'alloc-balance/target-status@1', status: 'build-failed' }));
  if (report) writeFileSync(join(at, 'report.json'), JSON.stringify(report));
}

function report(inputs: Record<string, string> = {}) {
  const env = {
    GITHUB_EVENT_NAME: 'workflow_run',
    GITHUB_EVENT_PATH: eventPath('workflow_run_fork'),
    GITHUB_REPOSITORY: 'nic-lab/kni-driver',
    GITHUB_API_URL: server.url,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: RUN_ID,
  };
  const all: Record<string, string> = { mode: 'report', reports: 'artifacts/**/*.json', 'github-token': TOKEN, ...inputs };
  const settings = parseSettings((name) => all[name] ?? '');
  const logs: string[] = [];
  const io: PipelineIo = {
    log: (l) => logs.push(l),
    warn: (l) => logs.push(`warning: ${l}`),
    group: (_, fn) => fn(),
    workspace: dir,
    saveState: () => {},
    env,
    cliPath: '',
    nodePath: '',
    githubRetry: FAST_RETRY,
  };
  return { run: () => runPipeline(settings, io), logs };
}

/** What a required check waiting on the head commit looks like: a queued run of the check's name, and the report job's own job. */
async function waitingChecks(): Promise<{ queued: number; ownJob: number }> {
  const gh = testClient(server.url);
  const queued = await gh.rest.checks.create({ ...REPO, name: 'alloc-balance', head_sha: HEAD_SHA, status: 'queued' });
  const ownJob = await gh.rest.checks.create({
    ...REPO,
    name: 'alloc-balance',
    head_sha: HEAD_SHA,
    status: 'in_progress',
    details_url: `https://github.com/nic-lab/kni-driver/actions/runs/${RUN_ID}/job/40000000001`,
  });
  return { queued: queued.data.id, ownJob: ownJob.data.id };
}

const byId = (id: number) => server.state.checkRuns.find((r) => r.id === id)!;

describe('report mode on workflow_run', () => {
  it('completes the check run already waiting on the tested commit instead of adding a second; the other JSON files are skipped', async () => {
    artifact(await recordedReport());
    const { queued, ownJob } = await waitingChecks();
    const { run, logs } = report();
    const result = await run();
    expect(result.verdict).toBe('fail');
    expect(server.calls('checks/create')).toHaveLength(2); // the two made above
    expect(byId(queued)).toMatchObject({ head_sha: HEAD_SHA, status: 'completed', conclusion: 'failure' });
    expect(byId(queued).output.title).toBe(result.headline);
    expect(byId(ownJob).status).toBe('in_progress');
    expect(logs).toContain(
      'reports: skipped 1 JSON file that is not an alloc-balance report (no "schema": "alloc-balance/report@1"), e.g. artifacts/alloc-balance-nic-runner-1/base/status.json',
    );
    expect(logs.some((l) => /check run "alloc-balance" failure on 4e7d2c9a1b0f \(the open one completed\)/.test(l))).toBe(true);
  });

  it('creates the check run on the tested commit when none waits; an inconclusive run is a failure unless inconclusive: neutral', async () => {
    artifact(await recordedReport({ base: { status: 'workload-not-ready', reason: 'no line matched ^ready', analysis: undefined } }));
    const first = await report().run();
    expect(first.verdict).toBe('inconclusive');
    expect(first.markdown).toContain('**What to do:** fix the base');
    await report({ inconclusive: 'neutral' }).run();
    const creates = server.calls('checks/create').map((r) => r.body as { head_sha: string; conclusion: string });
    expect(creates.map((c) => [c.head_sha, c.conclusion])).toEqual([
      [HEAD_SHA, 'failure'],
      [HEAD_SHA, 'neutral'],
    ]);
  });

  it('a collect run that left no report: the check run still fails on the tested commit, then the step fails', async () => {
    artifact(null);
    const { queued } = await waitingChecks();
    const error = await report()
      .run()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoReportError);
    expect((error as Error).message).toMatch(/^input "reports": "artifacts\/\*\*\/\*.json" matches one JSON file, none of them an alloc-balance report/);
    const run = byId(queued);
    expect(run).toMatchObject({
      status: 'completed',
      conclusion: 'failure',
      output: { title: '❌ no report: the collect run produced no alloc-balance report' },
    });
    expect(run.output.summary).toContain(
      `The collect run ([workflow run](https://github.com/nic-lab/kni-driver/actions/runs/${COLLECT_RUN}), success) left no report to read: input "reports"`,
    );
    expect(summary.read()).toContain('no report: the collect run produced no alloc-balance report');
    expect(server.calls('issues/create-comment')).toHaveLength(0);

    // No file at all (the artifact was never uploaded): the same.
    rmSync(join(dir, 'artifacts'), { recursive: true, force: true });
    await expect(report().run()).rejects.toThrow(/matches no file/);
    const [created] = server.calls('checks/create').slice(-1);
    expect(created.body).toMatchObject({ head_sha: HEAD_SHA, status: 'completed', conclusion: 'failure' });
  });
});
