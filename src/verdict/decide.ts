// The verdict of a run, from everything that decides it: how each side ran (a side that did not
// run cleanly decides before any table does), the two traces, the error-path sweep, whether the
// PR's changed code ran, and the canary. Pure; the
// headline of each cause is report/headline.ts's.
import { changedText, neverRan } from '../core/changed-code.js';
import { compareSweeps } from '../core/error-paths.js';
import type { AnalysisResult, CanaryResult, ChangedCode, Comparison, ErrorPaths, FailOn, SideRun, VerdictCause } from '../core/model.js';
import { canaryMissedReason } from '../report/canary.js';
import { headlineText, neverRanHeadline } from '../report/headline.js';
import { sideText } from '../report/status-text.js';
import { type StructuredVerdict, structuredVerdict } from './cause.js';

type CompareFn = (base: AnalysisResult, pr: AnalysisResult, failOn: FailOn) => Comparison;

/** The comparison under a verdict: its state, its reasons, the headline written from its cause. */
function withVerdict(comparison: Comparison, verdict: StructuredVerdict): Comparison {
  return { ...comparison, verdict: verdict.state, headline: headlineText(verdict.cause), reasons: verdict.reasons };
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
 * The verdict how each side ran decides before any table, or null when both ran cleanly and
 * their traces decide. A PR side that failed to build, load, unload, run its workload or keep the
 * kernel healthy fails the check whatever the policy - but only when the base ran cleanly: a
 * problem the base shows too is the environment's, not the PR's (inconclusive). A base side that
 * could not be measured leaves nothing to compare against.
 */
export function judgeRuns(base: SideRun, pr: SideRun): StructuredVerdict | null {
  const both = [sideText('base', base), sideText('PR', pr)];
  if (base.status === 'cancelled' || pr.status === 'cancelled') return structuredVerdict('inconclusive', { kind: 'cancelled' }, both);
  if (pr.status !== 'ok' && base.status !== 'ok') {
    const cause: VerdictCause = base.status === pr.status ? { kind: 'both-failed', status: pr.status } : { kind: 'base-failed-too', base };
    return structuredVerdict('inconclusive', cause, both);
  }
  if (pr.status !== 'ok') return structuredVerdict('fail', { kind: 'pr-failed', pr }, [sideText('PR', pr)]);
  if (base.status !== 'ok' || !base.analysis) return structuredVerdict('inconclusive', { kind: 'base-not-measured', base }, [sideText('base', base)]);
  if (!pr.analysis) return structuredVerdict('fail', { kind: 'no-pr-trace' }, ['PR: no trace was collected']);
  return null;
}

/** The comparison of a run: decided by how each side ran (judgeRuns), else by their traces and the error-path sweep. */
export function decideVerdict(base: SideRun, pr: SideRun, failOn: FailOn, compare: CompareFn): Comparison {
  const runs = judgeRuns(base, pr);
  if (runs === null) return applyErrorPaths(compare(base.analysis!, pr.analysis!, failOn), base, pr);
  if (runs.cause.kind !== 'base-not-measured') return withVerdict(emptyComparison(failOn, base, pr), runs);
  // A base that ran but cannot be trusted still shows the table, its reasons after the base's.
  const table = pr.analysis && base.analysis ? compare(base.analysis, pr.analysis, failOn) : emptyComparison(failOn, base, pr);
  return withVerdict(table, { ...runs, reasons: [...runs.reasons, ...table.reasons] });
}

/**
 * The comparison once the error-path sweep is known: a leak, crash, hang or stuck module on an
 * error path the base does not have fails a pass; what the PR found where the base's sweep never
 * got is kept aside, not judged.
 */
export function applyErrorPaths(comparison: Comparison, base: { errorPaths?: ErrorPaths }, pr: { errorPaths?: ErrorPaths }): Comparison {
  if (!pr.errorPaths) return comparison;
  const { findings, notCompared } = compareSweeps(base.errorPaths, pr.errorPaths, comparison.failOn === 'any-leak');
  const kept = notCompared.length > 0 ? { ...comparison, errorPathsNotCompared: notCompared } : comparison;
  if (findings.length === 0) return kept;
  const reasons = [...comparison.reasons, ...findings.map((f) => `error paths: ${f.text}`)];
  if (comparison.failOn === 'never' || comparison.verdict !== 'pass') return { ...kept, reasons, errorPaths: findings };
  return { ...withVerdict(kept, structuredVerdict('fail', { kind: 'error-path-leak', findings }, reasons)), errorPaths: findings };
}

/**
 * The comparison once the PR's changed functions are counted: a pass in which one never ran
 * says so in its headline; with `require` it is inconclusive instead.
 */
export function applyChangedCode(comparison: Comparison, changed: ChangedCode | undefined, require: boolean): Comparison {
  if (!changed || changed.functions.length === 0) return comparison;
  const reasons = [...comparison.reasons, `changed: ${changedText(changed)}`];
  const idle = neverRan(changed);
  if (comparison.verdict !== 'pass' || idle.length === 0) return { ...comparison, reasons };
  if (require) return withVerdict(comparison, structuredVerdict('inconclusive', { kind: 'changed-code-idle', idle }, reasons));
  return { ...comparison, headline: neverRanHeadline(comparison.headline, idle), reasons };
}

/**
 * The comparison once the canary is known. A canary that was not caught makes the run
 * inconclusive, unless the PR failed on its own account (did not build, load, run): that does
 * not depend on the detector.
 */
export function applyCanary(comparison: Comparison, canary: CanaryResult, pr: SideRun): Comparison {
  if (canary.caught) return comparison;
  if (pr.status !== 'ok' && pr.status !== 'cancelled' && comparison.verdict === 'fail') {
    return { ...comparison, reasons: [...comparison.reasons, `canary: ${canary.reason}`] };
  }
  return withVerdict(comparison, structuredVerdict('inconclusive', { kind: 'canary-missed', canary }, [canaryMissedReason(canary), ...comparison.reasons]));
}
