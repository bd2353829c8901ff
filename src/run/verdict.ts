// The final verdict of a run: a side that did not run cleanly decides before any table does.
import { applyErrorPaths } from '../core/error-paths.js';
import type { AnalysisResult, Comparison, FailOn, RunStatus, SideRun } from '../core/model.js';

export type CompareFn = (base: AnalysisResult, pr: AnalysisResult, failOn: FailOn) => Comparison;

const STATUS_TEXT: Record<RunStatus, string> = {
  ok: 'ran cleanly',
  'build-failed': 'the module did not build',
  'load-failed': 'the module failed to load',
  'unload-failed': 'the module failed to unload',
  'workload-not-ready': 'the workload never became ready',
  'workload-failed': 'the workload failed',
  'kernel-splat': 'the kernel reported an error',
  timeout: 'the run timed out',
  cancelled: 'the run was cancelled',
  'setup-failed': 'the run could not be set up',
};

export function describeStatus(run: SideRun): string {
  const what = STATUS_TEXT[run.status];
  return run.reason ? `${what}: ${run.reason}` : what;
}

function emptyComparison(failOn: FailOn, base: SideRun, pr: SideRun): Comparison {
  const side = (r: SideRun) => ({
    complete: r.analysis?.complete ?? false,
    lostEvents: r.analysis?.lostEvents ?? 0,
    cycles: r.analysis?.cycles ?? 0,
  });
  return { verdict: 'inconclusive', failOn, headline: '', reasons: [], rows: [], base: side(base), pr: side(pr) };
}

/**
 * Combines how each side ran with the comparison of their traces. A PR side that failed to build,
 * load, unload, run its workload or keep the kernel healthy fails the check whatever the policy -
 * but only when the base ran cleanly: a problem the base shows too is the environment's, not the
 * PR's (inconclusive). A base side that could not be measured leaves nothing to compare against.
 */
export function decideVerdict(base: SideRun, pr: SideRun, failOn: FailOn, compare: CompareFn): Comparison {
  const side = (name: string, r: SideRun) => `${name} (${r.sha.slice(0, 12) || r.ref}): ${describeStatus(r)}`;
  if (base.status === 'cancelled' || pr.status === 'cancelled') {
    const result = emptyComparison(failOn, base, pr);
    result.headline = '⚠️ inconclusive: the run was cancelled';
    result.reasons = [side('base', base), side('PR', pr)];
    return result;
  }
  if (pr.status !== 'ok' && base.status !== 'ok') {
    const result = emptyComparison(failOn, base, pr);
    result.headline =
      base.status === pr.status
        ? `⚠️ inconclusive: base and PR both failed the same way (${STATUS_TEXT[pr.status]}): the environment, not the PR`
        : `⚠️ inconclusive: the base build could not be measured either (${describeStatus(base)})`;
    result.reasons = [side('base', base), side('PR', pr)];
    return result;
  }
  if (pr.status !== 'ok') {
    const result = emptyComparison(failOn, base, pr);
    result.verdict = 'fail';
    result.headline = `❌ fail: on the PR build ${describeStatus(pr)}`;
    result.reasons = [side('PR', pr)];
    if (base.status !== 'ok') result.reasons.push(side('base', base));
    return result;
  }
  if (base.status !== 'ok' || !base.analysis) {
    const result = pr.analysis && base.analysis ? compare(base.analysis, pr.analysis, failOn) : emptyComparison(failOn, base, pr);
    result.verdict = 'inconclusive';
    result.headline = `⚠️ inconclusive: the base build could not be measured (${describeStatus(base)})`;
    result.reasons = [side('base', base), ...result.reasons];
    return result;
  }
  if (!pr.analysis) {
    const result = emptyComparison(failOn, base, pr);
    result.verdict = 'fail';
    result.headline = '❌ fail: the PR run produced no trace to analyze';
    result.reasons = ['PR: no trace was collected'];
    return result;
  }
  return applyErrorPaths(compare(base.analysis, pr.analysis, failOn), base, pr);
}
