// Several runners' reports (a matrix) as one: the worst verdict wins, every row tagged with its
// runner, every reason prefixed with it.
import type { Comparison, ComparisonRow, RunReport, Verdict } from '../core/model.js';
import { UsageError } from '../errors.js';
import { runnersHeadline } from '../report/headline.js';

export interface LoadedReport {
  file: string;
  report: RunReport;
}

const RANK: Record<Verdict, number> = { pass: 0, inconclusive: 1, fail: 2 };

/** Several runners' verdicts: the worst wins (fail > inconclusive > pass). */
export function worstVerdict(verdicts: Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((worst, v) => (RANK[v] > RANK[worst] ? v : worst), 'pass');
}

interface RunnerSummary {
  name: string;
  file: string;
  verdict: Verdict;
  headline: string;
}

interface MergedReport {
  verdict: Verdict;
  headline: string;
  runners: RunnerSummary[];
  /** One comparison over every runner: rows tagged with `runner`, reasons prefixed with it. */
  comparison: Comparison;
  reports: RunReport[];
}

/** Merges several runners' reports: the worst verdict wins (fail > inconclusive > pass). */
export function mergeReports(loaded: LoadedReport[]): MergedReport {
  if (loaded.length === 0) throw new UsageError('no report to merge');
  const seen = new Map<string, number>();
  const runners: RunnerSummary[] = loaded.map(({ file, report }) => {
    const base = report.runner.name;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return { name: n === 1 ? base : `${base} #${n}`, file, verdict: report.comparison.verdict, headline: report.comparison.headline };
  });
  const verdict = worstVerdict(runners.map((r) => r.verdict));
  const single = loaded.length === 1;
  const rows: ComparisonRow[] = loaded.flatMap(({ report }, i) => report.comparison.rows.map((row) => ({ ...row, runner: runners[i].name })));
  const reasons = loaded.flatMap(({ report }, i) => report.comparison.reasons.map((r) => (single ? r : `${runners[i].name}: ${r}`)));
  const worst = runners.find((r) => r.verdict === verdict) ?? runners[0];
  const headline = single ? worst.headline : runnersHeadline(verdict, runners, worst.headline);
  const side = (key: 'base' | 'pr') => ({
    complete: loaded.every(({ report }) => report.comparison[key].complete),
    lostEvents: loaded.reduce((sum, { report }) => sum + report.comparison[key].lostEvents, 0),
    cycles: Math.min(...loaded.map(({ report }) => report.comparison[key].cycles)),
  });
  const comparison: Comparison = {
    verdict,
    failOn: loaded[0].report.comparison.failOn,
    headline,
    reasons,
    rows,
    base: side('base'),
    pr: side('pr'),
  };
  return { verdict, headline, runners, comparison, reports: loaded.map((l) => l.report) };
}
