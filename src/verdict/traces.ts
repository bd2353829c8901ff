// The verdict on two traces under the fail-on policy: which rows and bad frees fail the check,
// and whether the traces can be trusted at all. An incomplete trace on either side is never a pass.
import { allocatedNothing, badFreeRows, comparisonRows, leakSite, notMeasured, sideSummary, sumRate, traced, leaks } from '../core/compare.js';
import type { AnalysisResult, BadFreeRow, Comparison, ComparisonRow, FailOn, Finding, PairResult } from '../core/model.js';
import { pairName } from '../core/pair-spec.js';
import { problemText } from '../core/analysis-problems.js';
import { findingReason, headlineText, incompleteTraceText } from '../report/headline.js';
import { type StructuredVerdict, structuredVerdict } from './cause.js';

/** The verdict on the two traces, with the reasons. */
export function judgeTraces(base: AnalysisResult, pr: AnalysisResult, failOn: FailOn, all: ComparisonRow[], badFrees: BadFreeRow[]): StructuredVerdict {
  const totals = all.filter((r) => r.total);
  const noAllocations = allocatedNothing(pr);

  // Under new-leak a call site in the module that leaks where the base did not (or more) fails
  // the check even when the pair's total is unchanged: a fix at one site must not hide a leak at another.
  const failingSites = (pair: string) =>
    failOn !== 'new-leak'
      ? []
      : all
          .filter((r) => r.pair === pair && !r.total && !r.countedOnly && r.inModule !== false && (r.status === 'new-leak' || r.status === 'worse'))
          .sort((a, b) => (b.pr?.leakedPerCycle ?? 0) - (a.pr?.leakedPerCycle ?? 0) || (b.pr?.outstanding ?? 0) - (a.pr?.outstanding ?? 0));
  const totalFails = (r: ComparisonRow) =>
    failOn === 'any-leak' ? leaks(r.pr) : failOn === 'new-leak' ? r.status === 'new-leak' || r.status === 'worse' : false;
  const findings: Finding[] = badFrees
    .filter((r) => (failOn === 'new-leak' ? r.isNew : failOn === 'any-leak' ? r.pr > 0 : false))
    .map((row) => ({ kind: 'bad-free', row }));
  for (const total of totals) {
    const sites = failingSites(total.pair);
    if (totalFails(total)) findings.push({ kind: 'leak', row: total, site: sites[0]?.caller ?? leakSite(all, total.pair) });
    else if (sites.length > 0) findings.push({ kind: 'leak', row: sites[0], site: sites[0].caller });
  }
  const reasons = findings.map(findingReason);

  // Pairs asked for and not measured on a side; a pair track: auto found in the imports may
  // never be reached by the workload, and is only marked in its row.
  const unmeasured: string[] = [];
  for (const total of totals) {
    const b = base.pairs.find((x) => pairName(x) === total.pair) ?? null;
    const p = pr.pairs.find((x) => pairName(x) === total.pair) ?? null;
    const asked = (x: PairResult | null) => x !== null && !x.auto;
    if (!asked(b) && !asked(p)) continue;
    if (p !== null && b !== null && !traced(p) && !traced(b)) {
      unmeasured.push(problemText.noEvents(total.pair, p.alloc, p.free, 'either trace'));
      continue;
    }
    const why = [notMeasured('PR', total.pair, p), b === null ? null : notMeasured('base', total.pair, b)].filter((w): w is string => w !== null);
    unmeasured.push(...why);
  }

  let verdict: StructuredVerdict;
  if (!base.complete || !pr.complete || unmeasured.length > 0) {
    const why = [!pr.complete ? incompleteTraceText('PR', pr) : '', !base.complete ? incompleteTraceText('base', base) : ''].filter((s) => s !== '');
    reasons.unshift(...why.map((w) => `${w}: counts from such a trace are no evidence of balance`), ...unmeasured);
    verdict = structuredVerdict('inconclusive', { kind: 'untrusted-trace', why, unmeasured }, reasons);
  } else if (findings.length > 0) {
    verdict = structuredVerdict('fail', { kind: 'leak', findings }, reasons);
  } else {
    verdict = structuredVerdict('pass', { kind: 'balanced', failOn, prRate: sumRate(totals, 'pr'), baseRate: sumRate(totals, 'base'), noAllocations }, reasons);
  }
  if (noAllocations) reasons.push('the module allocated nothing during the PR cycles (the slab allocator was traced whatever the module imports)');
  return verdict;
}

/** Base against PR: the table's rows, the bad frees, and the verdict on them under `failOn`. */
export function compare(base: AnalysisResult, pr: AnalysisResult, failOn: FailOn = 'new-leak'): Comparison {
  const rows = comparisonRows(base, pr);
  const badFrees = badFreeRows(base, pr);
  const verdict = judgeTraces(base, pr, failOn, rows, badFrees);
  return {
    verdict: verdict.state,
    failOn,
    headline: headlineText(verdict.cause),
    reasons: verdict.reasons,
    rows,
    ...(badFrees.length > 0 ? { badFrees } : {}),
    ...(allocatedNothing(pr) ? { noAllocations: true } : {}),
    base: sideSummary(base),
    pr: sideSummary(pr),
  };
}
