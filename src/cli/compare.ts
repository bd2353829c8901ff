// alloc-balance compare BASE.json PR.json | REPORT.json [--fail-on POLICY] [--json|--markdown]
// Exit 0 pass, 1 fail, 2 inconclusive, 64 bad input.
import { readFileSync } from 'node:fs';
import type { AnalysisResult, Comparison, FailOn, RunReport } from '../core/model.js';
import { compare } from '../verdict/traces.js';
import { checkAnalysis } from '../core/analysis-check.js';
import { decideVerdict } from '../verdict/decide.js';
import { REPORT_SCHEMA, validateReport } from '../github/reports.js';
import { renderMarkdown } from '../report/markdown.js';
import { type InconclusiveRun, whatToDoMarkdown } from '../report/what-to-do.js';
import { renderText } from '../report/terminal.js';
import { UsageError } from '../errors.js';
import { readArgs } from './args.js';
import { usageLine } from './help.js';
import { VERDICT_EXIT } from './exit-codes.js';

const COMPARE_USAGE = usageLine('compare');

const POLICIES: FailOn[] = ['new-leak', 'any-leak', 'never'];
const EXPECTED = 'expected the output of "alloc-balance analyze --json" or the action\'s report.json';

type Loaded = { kind: 'analysis'; analysis: AnalysisResult } | { kind: 'report'; report: RunReport };

function load(path: string, what: string): Loaded {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`compare: ${what} ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`compare: ${what} ${path}: not JSON; ${EXPECTED}`);
  }
  const schema = (parsed as { schema?: unknown } | null)?.schema;
  if (typeof schema === 'string' && schema.startsWith('alloc-balance/report')) {
    let report: RunReport;
    try {
      report = validateReport(parsed, path);
    } catch (e) {
      throw new UsageError(`compare: ${(e as Error).message}`);
    }
    for (const side of ['base', 'pr'] as const) {
      const analysis = report[side].analysis;
      const problem = analysis === undefined ? null : checkAnalysis(analysis);
      if (problem) throw new UsageError(`compare: ${path}: "${side}.analysis" is not an analysis (${problem}); ${EXPECTED}`);
    }
    return { kind: 'report', report };
  }
  const problem = checkAnalysis(parsed);
  if (problem) throw new UsageError(`compare: ${what} ${path}: not an analysis (${problem}); ${EXPECTED}`);
  return { kind: 'analysis', analysis: parsed as AnalysisResult };
}

export async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = readArgs('compare', args, { 'fail-on': { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' } }, 2);
  if (positionals.length === 0) throw new UsageError(`compare: expected two analyses (base then PR) or one report.json; ${COMPARE_USAGE}`);
  const failOn = (values['fail-on'] ?? 'new-leak') as FailOn;
  if (!POLICIES.includes(failOn)) throw new UsageError(`compare: --fail-on "${failOn}" is not a policy; use one of ${POLICIES.join(', ')}`);
  if (values.json && values.markdown) throw new UsageError('compare: choose one of --json and --markdown');

  let c: Comparison;
  let base: AnalysisResult | undefined;
  let pr: AnalysisResult | undefined;
  let sides: Pick<InconclusiveRun, 'base' | 'pr'>;
  if (positionals.length === 1) {
    const one = load(positionals[0], 'report');
    if (one.kind !== 'report') {
      throw new UsageError(`compare: ${positionals[0]} is one analysis: give the base's and the PR's (compare BASE.json PR.json), or the action's report.json`);
    }
    // The same verdict as the action's: a side that did not run cleanly decides before the traces.
    const { report } = one;
    c = decideVerdict(report.base, report.pr, failOn, compare);
    base = report.base.analysis;
    pr = report.pr.analysis;
    sides = { base: report.base, pr: report.pr };
  } else {
    const loaded = [load(positionals[0], 'base'), load(positionals[1], 'PR')];
    for (const [k, side] of loaded.entries()) {
      if (side.kind === 'report') {
        throw new UsageError(`compare: ${positionals[k]} is a report of both sides (${REPORT_SCHEMA}): compare it alone (compare ${positionals[k]})`);
      }
    }
    [base, pr] = loaded.map((s) => (s as { analysis: AnalysisResult }).analysis);
    c = compare(base, pr, failOn);
    sides = { base: { status: 'ok', analysis: base }, pr: { status: 'ok', analysis: pr } };
  }
  if (values.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else if (values.markdown) process.stdout.write(renderMarkdown(c, { base, pr, whatToDo: whatToDoMarkdown({ comparison: c, ...sides }) }));
  else process.stdout.write(renderText(c, { base, pr }));
  return VERDICT_EXIT[c.verdict];
}
