// report mode: JSON reports written by collect runs, read, checked and merged into one result.
// Nothing here checks out or runs code: a report is data, even when a fork PR produced it.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { Comparison, ComparisonRow, RunReport, Verdict } from '../core/model.js';
import { UsageError } from '../errors.js';
import { expandGlob } from './glob.js';
import { worstVerdict } from '../verdict/decide.js';
import { runnersHeadline } from '../report/headline.js';

export const REPORT_SCHEMA = 'alloc-balance/report@1';

interface LoadedReport {
  file: string;
  report: RunReport;
}

const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'inconclusive'];
function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks the shape a report must have for merging and rendering; throws naming the file and the field. */
export function validateReport(value: unknown, file: string): RunReport {
  const bad = (what: string) => new UsageError(`${file} is not an alloc-balance report: ${what}`);
  if (!isObj(value)) throw bad('expected a JSON object');
  if (value.schema !== REPORT_SCHEMA) {
    throw bad(`"schema" is ${JSON.stringify(value.schema)}, expected "${REPORT_SCHEMA}" (write reports with mode: collect of the same major version)`);
  }
  const runner = value.runner;
  if (!isObj(runner) || typeof runner.name !== 'string' || runner.name === '') throw bad('"runner.name" is missing');
  for (const side of ['base', 'pr'] as const) {
    const s = value[side];
    if (!isObj(s) || typeof s.status !== 'string') throw bad(`"${side}.status" is missing`);
  }
  const c = value.comparison;
  if (!isObj(c)) throw bad('"comparison" is missing');
  if (!VERDICTS.includes(c.verdict as Verdict)) throw bad(`"comparison.verdict" is ${JSON.stringify(c.verdict)}, expected pass, fail or inconclusive`);
  if (typeof c.headline !== 'string') throw bad('"comparison.headline" is missing');
  if (!Array.isArray(c.rows)) throw bad('"comparison.rows" is not a list');
  if (!Array.isArray(c.reasons)) throw bad('"comparison.reasons" is not a list');
  for (const [i, row] of (c.rows as unknown[]).entries()) {
    if (!isObj(row) || typeof row.pair !== 'string' || typeof row.caller !== 'string' || typeof row.status !== 'string') {
      throw bad(`"comparison.rows[${i}]" needs pair, caller and status`);
    }
  }
  if (!isObj(c.base) || !isObj(c.pr)) throw bad('"comparison.base" and "comparison.pr" are missing');
  return value as unknown as RunReport;
}

/** The `reports` input found no report at all: the collect run produced none, or the glob misses them. */
export class NoReportError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'NoReportError';
  }
}

const SUGGESTED_GLOB = 'reports/**/report.json';

/** A report says what it is; a collect run's other JSON files (job.json, status.json, sections.json) do not. */
function claimsToBeReport(value: unknown): boolean {
  return isObj(value) && typeof value.schema === 'string' && value.schema.startsWith('alloc-balance/report@');
}

/**
 * Reads every report the path or glob names (input `reports`). JSON files that do not claim to be
 * a report are skipped with one notice; a file that claims it and is malformed is an error, and so
 * is finding no report.
 */
export async function readReports(pattern: string, cwd: string = process.cwd(), notice: (line: string) => void = () => {}): Promise<LoadedReport[]> {
  const files = await expandGlob(pattern, cwd);
  if (files.length === 0) {
    throw new NoReportError(
      `input "reports": "${pattern}" matches no file; give the path or glob of the JSON reports (e.g. ${SUGGESTED_GLOB} after actions/download-artifact)`,
    );
  }
  const loaded: LoadedReport[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const shown = relative(cwd, file) || file;
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`${shown} is not an alloc-balance report: ${(e as Error).message}`);
    }
    if (!claimsToBeReport(value)) {
      skipped.push(shown);
      continue;
    }
    loaded.push({ file: shown, report: validateReport(value, shown) });
  }
  if (skipped.length > 0) {
    const files = `${skipped.length} JSON file${skipped.length === 1 ? '' : 's'}`;
    notice(
      `reports: skipped ${files} that ${skipped.length === 1 ? 'is' : 'are'} not an alloc-balance report (no "schema": "${REPORT_SCHEMA}"), e.g. ${skipped[0]}`,
    );
  }
  if (loaded.length === 0) {
    throw new NoReportError(
      `input "reports": "${pattern}" matches ${skipped.length === 1 ? 'one JSON file' : `${skipped.length} JSON files`}, none of them an alloc-balance report; ` +
        `give the path or glob of the reports, e.g. ${SUGGESTED_GLOB}`,
    );
  }
  return loaded;
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
