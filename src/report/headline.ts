// The verdict's one line, above the table and in the check run's title: ✅, ❌ or ⚠️ and what
// decided it. Every headline is written here, from the verdict's cause.
import type { AnalysisResult, Finding, Verdict, VerdictCause } from '../core/model.js';
import { EPSILON } from '../core/compare.js';
import { badFreeText, fmt, leakText } from './leak-text.js';
import { STATUS_TEXT, describeStatus } from './status-text.js';

/** A finding as the headline says it: `PR leaks 1 object/cycle at f (base 0)`. */
function findingText(f: Finding): string {
  if (f.kind === 'bad-free') return `PR ${badFreeText(f.row)}`;
  const pf = f.row.pr!;
  return `PR ${leakText(pf)} ${f.site ? `at ${f.site}` : `on ${f.row.pair}`} (base ${baseFigure(f)})`;
}

/** A finding as a reason says it: the pair first, the growth's shape after. */
export function findingReason(f: Finding): string {
  if (f.kind === 'bad-free') return `${f.row.pair}: PR ${badFreeText(f.row)}`;
  const pf = f.row.pr!;
  return `${f.row.pair}: PR ${leakText(pf)}${f.site ? ` at ${f.site}` : ''} (base ${baseFigure(f)})${pf.judged && pf.judged.shape !== 'end' ? `: ${pf.judged.text}` : ''}`;
}

function baseFigure(f: Extract<Finding, { kind: 'leak' }>): string {
  const { row } = f;
  const pf = row.pr!;
  if (!row.base) return row.total ? 'not traced' : '0';
  return pf.leakedPerCycle > EPSILON ? fmt(row.base.leakedPerCycle) : fmt(Math.max(row.base.outstanding, 0));
}

/** Why a side's trace is no evidence: the events it lost and where, or its first problem. */
export function incompleteTraceText(side: string, a: AnalysisResult): string {
  if (a.lostEvents > 0) {
    const by = a.lostBy ?? { buffer: a.lostEvents, probes: 0 };
    const advice = [
      by.buffer > 0 ? 'the trace buffer overflowed: raise trace-buffer-kb' : '',
      by.probes > 0 ? `${by.probes} return probe hit(s) missed: too few kretprobe instances (maxactive)` : '',
    ].filter((x) => x !== '');
    return `the ${side} trace lost ${a.lostEvents} events (${advice.join('; ')})`;
  }
  return `the ${side} trace is incomplete${a.problems.length ? `: ${a.problems[0]}` : ''}`;
}

function neverRanText(idle: string[]): string {
  return `the changed function${idle.length === 1 ? '' : 's'} ${idle.join(', ')} never ran`;
}

export function headlineText(cause: VerdictCause): string {
  switch (cause.kind) {
    case 'cancelled':
      return '⚠️ inconclusive: the run was cancelled';
    case 'both-failed':
      return `⚠️ inconclusive: base and PR both failed the same way (${STATUS_TEXT[cause.status]}): the environment, not the PR`;
    case 'base-failed-too':
      return `⚠️ inconclusive: the base build could not be measured either (${describeStatus(cause.base)})`;
    case 'pr-failed':
      return `❌ fail: on the PR build ${describeStatus(cause.pr)}`;
    case 'base-not-measured':
      return `⚠️ inconclusive: the base build could not be measured (${describeStatus(cause.base)})`;
    case 'no-pr-trace':
      return '❌ fail: the PR run produced no trace to analyze';
    case 'untrusted-trace': {
      const first = [...cause.why, ...cause.unmeasured.slice(0, 1)];
      const more = cause.unmeasured.length > 1 ? ` (+${cause.unmeasured.length - 1} more not measured)` : '';
      return `⚠️ inconclusive: ${first.join('; ')}${more}`;
    }
    case 'leak': {
      const more = cause.findings.length - 1;
      return `❌ fail: ${findingText(cause.findings[0])}${more > 0 ? ` (+${more} more)` : ''}`;
    }
    case 'balanced': {
      const figures = cause.noAllocations
        ? 'the module allocated nothing during the cycles'
        : `PR leaks ${fmt(cause.prRate)}/cycle (base ${fmt(cause.baseRate)}/cycle)`;
      if (cause.failOn === 'never') return `✅ pass (fail-on: never): ${figures}`;
      if (cause.failOn === 'any-leak') return `✅ pass: the PR leaks nothing — ${figures}`;
      return `✅ pass: no new leak — ${figures}`;
    }
    case 'error-path-leak': {
      const n = cause.findings.length;
      const more = n > 1 ? ` (+${n - 1} more error path${n > 2 ? 's' : ''})` : '';
      return `❌ fail: ${cause.findings[0].text}${more}`;
    }
    case 'changed-code-idle':
      return `⚠️ inconclusive: ${neverRanText(cause.idle)} (require-changed-code)`;
    case 'canary-missed':
      return (
        `⚠️ inconclusive: the canary's known leak was not detected, the detector does not work on this machine/kernel (${cause.canary.kernel}): ` +
        `${cause.canary.reason}`
      );
  }
}

/** A pass in which changed functions never ran says so after its own line. */
export function neverRanHeadline(headline: string, idle: string[]): string {
  return `${headline} — but ${neverRanText(idle)}`;
}

/** Several runners (a matrix): the worst verdict, where it was found, and that runner's own line. */
export function runnersHeadline(verdict: Verdict, runners: { name: string; verdict: Verdict }[], worstHeadline: string): string {
  const where = runners
    .filter((r) => r.verdict === verdict)
    .map((r) => r.name)
    .join(', ');
  return `${verdict.toUpperCase()} on ${where} (${runners.length} runners): ${worstHeadline}`;
}
