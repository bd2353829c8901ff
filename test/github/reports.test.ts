import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ComparisonRow, RunReport, Verdict } from '../../src/core/model.js';
import { resolveChange } from '../../src/github/event.js';
import { expandGlob } from '../../src/github/glob.js';
import { resolveReportTarget } from '../../src/github/report-target.js';
import { NoReportError, readReports } from '../../src/github/reports.js';
import { mergeReports, worstVerdict } from '../../src/verdict/runners.js';
import { useGitHubServer } from '../support/github-server.js';
import { eventContext, loadEvent, testClient } from '../support/github-env.js';
import { useTempDir } from '../support/temp-dir.js';

const HEAD = '4e7d2c9a1b0f8e3d6c5b4a39281706f5e4d3c2b1';
const BASE = '9f2c1e0b7d4a3c58e6f1a2b3c4d5e6f708192a3b';
const DATA = join(import.meta.dirname, '..', 'data');

function figures(per: number, cycles = 3) {
  return {
    allocs: 4 * cycles,
    frees: 4 * cycles - per * cycles,
    outstanding: per * cycles,
    cycles,
    leakedPerCycle: per,
    growth: Array.from({ length: cycles }, (_, i) => per * (i + 1)),
  };
}

function row(caller: string, base: number, pr: number, status: ComparisonRow['status']): ComparisonRow {
  return {
    pair: 'alloc_netdev_mqs:free_netdev',
    caller,
    inModule: true,
    location: 'kernel/linux/kni/kni_misc.c:412',
    base: figures(base),
    pr: figures(pr),
    change: pr - base,
    status,
  };
}

function report(runner: string, verdict: Verdict, rows: ComparisonRow[], extra: Partial<RunReport> = {}): RunReport {
  const side = (s: 'base' | 'pr', sha: string) => ({
    side: s,
    ref: s === 'base' ? 'main' : 'main',
    sha,
    status: 'ok' as const,
    timings: { build: 7.1, run: 21.4 },
  });
  return {
    schema: 'alloc-balance/report@1',
    runner: { name: runner, kernel: 'test-kernel-release', target: 'vm' },
    module: 'rte_kni',
    pairs: ['alloc_netdev_mqs:free_netdev'],
    base: side('base', BASE),
    pr: side('pr', HEAD),
    comparison: {
      verdict,
      failOn: 'new-leak',
      headline:
        verdict === 'fail'
          ? 'FAIL: the PR leaks 2 alloc_netdev_mqs per cycle'
          : verdict === 'pass'
            ? 'PASS: balanced'
            : 'INCONCLUSIVE: the trace lost 12 events',
      reasons: verdict === 'inconclusive' ? ['the PR trace lost 12 events'] : [],
      rows,
      base: { complete: true, lostEvents: 0, cycles: 3 },
      pr: { complete: verdict !== 'inconclusive', lostEvents: verdict === 'inconclusive' ? 12 : 0, cycles: 3 },
    },
    change: { event: 'pull_request', prNumber: 57, baseSha: BASE, headSha: HEAD, headRepo: 'eve-contrib/kni-driver', isFork: true },
    ...extra,
  };
}

const dir = useTempDir('alloc-balance-reports-');

function write(rel: string, value: unknown): string {
  const path = join(dir, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

const server = useGitHubServer();

describe('report mode', () => {
  it('finds reports with *, ** and a directory', async () => {
    write('glob/alloc-balance-nic-a/report.json', '{}');
    write('glob/alloc-balance-nic-b/report.json', '{}');
    write('glob/alloc-balance-nic-b/deep/x/trace.json', '{}');
    write('glob/other/report.txt', '');
    const rel = (files: string[]) => files.map((f) => f.slice(join(dir, 'glob').length + 1));
    expect(rel(await expandGlob('alloc-balance-*/report.json', join(dir, 'glob')))).toEqual([
      'alloc-balance-nic-a/report.json',
      'alloc-balance-nic-b/report.json',
    ]);
    expect(rel(await expandGlob('**/*.json', join(dir, 'glob')))).toEqual([
      'alloc-balance-nic-a/report.json',
      'alloc-balance-nic-b/deep/x/trace.json',
      'alloc-balance-nic-b/report.json',
    ]);
    expect(rel(await expandGlob('alloc-balance-nic-b', join(dir, 'glob')))).toEqual([
      'alloc-balance-nic-b/deep/x/trace.json',
      'alloc-balance-nic-b/report.json',
    ]);
    expect(rel(await expandGlob(`${join(dir, 'glob')}/**/report.?son`, '/'))).toHaveLength(2);
    expect(await expandGlob('nothing-*/x.json', join(dir, 'glob'))).toEqual([]);
    // As @actions/glob reads a pattern: hidden folders are searched, `!` excludes.
    write('glob/.hidden/report.json', '{}');
    expect(rel(await expandGlob('**/report.json', join(dir, 'glob')))).toEqual([
      '.hidden/report.json',
      'alloc-balance-nic-a/report.json',
      'alloc-balance-nic-b/report.json',
    ]);
    expect(rel(await expandGlob('**/*.json\n!**/deep/**', join(dir, 'glob')))).toEqual([
      '.hidden/report.json',
      'alloc-balance-nic-a/report.json',
      'alloc-balance-nic-b/report.json',
    ]);
  });

  it('merges two runners: rows tagged by runner, the worst verdict wins', async () => {
    write('merge/nic-a/report.json', report('nic-a', 'pass', [row('kni_ioctl_create', 0, 0, 'balanced')]));
    write('merge/nic-b/report.json', report('nic-b', 'fail', [row('kni_ioctl_create', 0, 2, 'new-leak'), row('igb_kni_probe', 1, 1, 'same-leak')]));
    const loaded = await readReports('merge/*/report.json', dir);
    expect(loaded.map((l) => l.file)).toEqual(['merge/nic-a/report.json', 'merge/nic-b/report.json']);
    const merged = mergeReports(loaded);
    expect(merged.verdict).toBe('fail');
    expect(merged.comparison.verdict).toBe('fail');
    expect(merged.headline).toBe('FAIL on nic-b (2 runners): FAIL: the PR leaks 2 alloc_netdev_mqs per cycle');
    expect(merged.comparison.rows.map((r) => [r.runner, r.caller, r.status])).toEqual([
      ['nic-a', 'kni_ioctl_create', 'balanced'],
      ['nic-b', 'kni_ioctl_create', 'new-leak'],
      ['nic-b', 'igb_kni_probe', 'same-leak'],
    ]);
    expect(merged.runners.map((r) => `${r.name}:${r.verdict}`)).toEqual(['nic-a:pass', 'nic-b:fail']);
  });

  it('inconclusive beats pass, fail beats inconclusive; reasons keep their runner', async () => {
    expect(worstVerdict(['pass', 'inconclusive', 'pass'])).toBe('inconclusive');
    expect(worstVerdict(['inconclusive', 'fail'])).toBe('fail');
    expect(worstVerdict(['pass'])).toBe('pass');
    const merged = mergeReports([
      { file: 'a.json', report: report('nic-a', 'pass', []) },
      { file: 'b.json', report: report('nic-a', 'inconclusive', []) },
    ]);
    expect(merged.verdict).toBe('inconclusive');
    expect(merged.runners.map((r) => r.name)).toEqual(['nic-a', 'nic-a #2']);
    expect(merged.comparison.reasons).toEqual(['nic-a #2: the PR trace lost 12 events']);
    expect(merged.comparison.pr).toEqual({ complete: false, lostEvents: 12, cycles: 3 });
  });

  it('names the file that is not a report', async () => {
    write('bad/not-json.json', '{ "schema": ');
    await expect(readReports('bad/not-json.json', dir)).rejects.toThrow(/^bad\/not-json.json is not an alloc-balance report: /);
    const other = report('nic-a', 'pass', []) as any;
    other.schema = 'alloc-balance/report@2';
    write('bad2/report.json', other);
    await expect(readReports('bad2/*.json', dir)).rejects.toThrow(
      'bad2/report.json is not an alloc-balance report: "schema" is "alloc-balance/report@2", expected "alloc-balance/report@1"',
    );
    const broken = report('nic-a', 'pass', []) as any;
    broken.comparison.verdict = 'green';
    write('bad3/report.json', broken);
    await expect(readReports('bad3', dir)).rejects.toThrow(/"comparison.verdict" is "green", expected pass, fail or inconclusive/);
    await expect(readReports('missing/**/*.json', dir)).rejects.toThrow(
      /^input "reports": "missing\/\*\*\/\*.json" matches no file; .* \(e.g. reports\/\*\*\/report.json after actions\/download-artifact\)$/,
    );
  });

  it("skips the collect run's other JSON files with one notice, and still refuses a malformed report among them", async () => {
    // An artifact as the collect run uploads it: the report beside each side's job, status and sections.
    write('artifact/alloc-balance-nic-a/report.json', report('nic-a', 'fail', [row('kni_ioctl_create', 0, 2, 'new-leak')]));
    for (const side of ['base', 'pr']) {
      write(`artifact/alloc-balance-nic-a/${side}/job.json`, { schema: 'alloc-balance/job@1', module: { path: 'kni_like.ko' } });
      write(`artifact/alloc-balance-nic-a/${side}/status.json`, { schema: 'alloc-balance/target-status@1', status: 'ok' });
      write(`artifact/alloc-balance-nic-a/${side}/sections.json`, readFileSync(join(DATA, 'leaky.sections.json'), 'utf8'));
    }
    const notices: string[] = [];
    const loaded = await readReports('artifact/**/*.json', dir, (line) => notices.push(line));
    expect(loaded.map((l) => [l.file, l.report.comparison.verdict])).toEqual([['artifact/alloc-balance-nic-a/report.json', 'fail']]);
    expect(notices).toEqual([
      'reports: skipped 6 JSON files that are not an alloc-balance report (no "schema": "alloc-balance/report@1"), e.g. artifact/alloc-balance-nic-a/base/job.json',
    ]);

    const broken = report('nic-b', 'pass', []) as any;
    delete broken.runner;
    write('artifact/alloc-balance-nic-b/report.json', broken);
    await expect(readReports('artifact/**/*.json', dir)).rejects.toThrow(
      'artifact/alloc-balance-nic-b/report.json is not an alloc-balance report: "runner.name" is missing',
    );
  });

  it('a glob that finds JSON but no report names the input and the glob to use', async () => {
    write('no-report/alloc-balance-nic-a/base/status.json', { schema: 'alloc-balance/target-status@1', status: 'build-failed' });
    write('no-report/alloc-balance-nic-a/base/sections.json', readFileSync(join(DATA, 'leaky.sections.json'), 'utf8'));
    const notices: string[] = [];
    const error = await readReports('no-report/**/*.json', dir, (line) => notices.push(line)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoReportError);
    expect((error as Error).message).toBe(
      'input "reports": "no-report/**/*.json" matches 2 JSON files, none of them an alloc-balance report; give the path or glob of the reports, e.g. reports/**/report.json',
    );
    expect(notices).toHaveLength(1);
    expect(await readReports('missing/*.json', dir).catch((e: unknown) => e)).toBeInstanceOf(NoReportError);
  });

  it('workflow_run of a fork: the PR number from the reports is used only when the API confirms its head', async () => {
    const change = await resolveChange(eventContext('workflow_run', 'workflow_run_fork'), { baseRef: '', headRef: '', prNumber: null }, null);
    server.state.pulls.set('nic-lab/kni-driver#57', loadEvent('pull_request_fork').pull_request);
    const repo = { owner: 'nic-lab', repo: 'kni-driver' };
    const confirmed = await resolveReportTarget(testClient(server.url), repo, change, [report('nic-a', 'pass', [])]);
    expect(confirmed).toEqual({ prNumber: 57, headSha: HEAD, warnings: [] });

    // A report that claims another PR (whose head is another commit) gets no comment.
    const other = structuredClone(loadEvent('pull_request').pull_request);
    other.head.sha = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    server.state.pulls.set('nic-lab/kni-driver#42', other);
    const forged = report('nic-a', 'pass', [], {
      change: { event: 'pull_request', prNumber: 42, baseSha: BASE, headSha: HEAD, headRepo: 'eve-contrib/kni-driver', isFork: true },
    });
    const refused = await resolveReportTarget(testClient(server.url), repo, change, [forged]);
    expect(refused.prNumber).toBeNull();
    expect(refused.warnings[0]).toMatch(/the reports name PR #42, whose head is aaaaaaaaaaaa, not 4e7d2c9a1b0f/);

    // A report of another commit than the run's is refused outright.
    const stale = report('nic-a', 'pass', []);
    stale.pr.sha = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    stale.change!.headSha = stale.pr.sha;
    await expect(resolveReportTarget(testClient(server.url), repo, change, [stale])).rejects.toThrow(/refusing to post results for another commit/);
  });
});
