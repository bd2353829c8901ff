// The verdict from how each side ran: the PR is blamed for a run problem only when the base ran cleanly.
import { describe, expect, test } from 'vitest';
import type { AnalysisResult, Comparison, RunStatus, SideRun } from '../../src/core/model.js';
import { decideVerdict, judgeRuns } from '../../src/verdict/decide.js';

const ANALYSIS = { complete: true } as AnalysisResult;
const COMPARED: Comparison = {
  verdict: 'pass',
  failOn: 'new-leak',
  headline: '✅ pass: compared',
  reasons: [],
  rows: [],
  base: { complete: true, lostEvents: 0, cycles: 3 },
  pr: { complete: true, lostEvents: 0, cycles: 3 },
};

function side(which: 'base' | 'pr', status: RunStatus, reason?: string): SideRun {
  return {
    side: which,
    ref: which === 'base' ? 'main' : 'topic',
    sha: which === 'base' ? 'b'.repeat(40) : 'c'.repeat(40),
    status,
    ...(reason ? { reason } : {}),
    timings: {},
    ...(status === 'ok' ? { analysis: ANALYSIS } : {}),
  };
}

const verdict = (base: SideRun, pr: SideRun) => decideVerdict(base, pr, 'new-leak', () => structuredClone(COMPARED));

describe('decideVerdict', () => {
  test.each<[RunStatus, RunStatus, Comparison['verdict'], RegExp]>([
    ['ok', 'ok', 'pass', /^✅ pass: compared$/],
    ['ok', 'workload-not-ready', 'fail', /^❌ fail: on the PR build the workload never became ready$/],
    ['ok', 'kernel-splat', 'fail', /^❌ fail: on the PR build the kernel reported an error$/],
    ['ok', 'build-failed', 'fail', /^❌ fail: on the PR build the module did not build$/],
    [
      'workload-not-ready',
      'workload-not-ready',
      'inconclusive',
      /^⚠️ inconclusive: base and PR both failed the same way \(the workload never became ready\): the environment, not the PR$/,
    ],
    ['build-failed', 'build-failed', 'inconclusive', /both failed the same way \(the module did not build\)/],
    ['load-failed', 'workload-failed', 'inconclusive', /^⚠️ inconclusive: the base build could not be measured either \(the module failed to load\)$/],
    ['workload-not-ready', 'ok', 'inconclusive', /^⚠️ inconclusive: the base build could not be measured \(the workload never became ready\)$/],
    ['ok', 'cancelled', 'inconclusive', /^⚠️ inconclusive: the run was cancelled$/],
    ['cancelled', 'cancelled', 'inconclusive', /^⚠️ inconclusive: the run was cancelled$/],
    ['setup-failed', 'cancelled', 'inconclusive', /^⚠️ inconclusive: the run was cancelled$/],
  ])('base %s, PR %s: %s', (baseStatus, prStatus, expected, headline) => {
    const c = verdict(side('base', baseStatus), side('pr', prStatus));
    expect(c.verdict).toBe(expected);
    expect(c.headline).toMatch(headline);
  });

  test('both failing names each side with its commit and reason', () => {
    const c = verdict(
      side('base', 'workload-not-ready', 'EAL: Cannot get hugepage information'),
      side('pr', 'workload-not-ready', 'EAL: Cannot get hugepage information'),
    );
    expect(c.reasons).toEqual([
      `base (${'b'.repeat(12)}): the workload never became ready: EAL: Cannot get hugepage information`,
      `PR (${'c'.repeat(12)}): the workload never became ready: EAL: Cannot get hugepage information`,
    ]);
    expect(c.rows).toEqual([]);
  });
});

describe('judgeRuns', () => {
  test('two clean runs with traces leave the verdict to the traces', () => {
    expect(judgeRuns(side('base', 'ok'), side('pr', 'ok'))).toBeNull();
  });

  test.each<[RunStatus, RunStatus, string, string]>([
    ['ok', 'build-failed', 'pr-failed', 'pr'],
    ['load-failed', 'load-failed', 'both-failed', 'environment'],
    ['load-failed', 'workload-failed', 'base-failed-too', 'environment'],
    ['timeout', 'ok', 'base-not-measured', 'environment'],
    ['ok', 'cancelled', 'cancelled', 'none'],
  ])('base %s, PR %s: %s, blaming %s', (baseStatus, prStatus, kind, blame) => {
    expect(judgeRuns(side('base', baseStatus), side('pr', prStatus))).toMatchObject({ cause: { kind }, blame });
  });

  test('a PR that ran cleanly and left no trace is blamed for it', () => {
    const pr = { ...side('pr', 'ok'), analysis: undefined };
    expect(judgeRuns(side('base', 'ok'), pr)).toMatchObject({ state: 'fail', cause: { kind: 'no-pr-trace' }, blame: 'pr' });
  });
});
