// report mode: JSON reports written by collect runs, read and checked (verdict/runners.ts merges them).
// Nothing here checks out or runs code: a report is data, even when a fork PR produced it.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { RunReport, Verdict } from '../core/model.js';
import { UsageError } from '../errors.js';
import { expandGlob } from './glob.js';
import type { LoadedReport } from '../verdict/runners.js';

export const REPORT_SCHEMA = 'alloc-balance/report@1';

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
