// alloc-balance compare BASE.json PR.json [--fail-on POLICY] [--json|--markdown]
// Exit 0 pass, 1 fail, 2 inconclusive, 64 bad input.
import { readFileSync } from 'node:fs';
import type { AnalysisResult, FailOn } from '../core/model.js';
import { compare } from '../core/compare.js';
import { checkAnalysis } from '../core/analysis-check.js';
import { renderMarkdown } from '../report/markdown.js';
import { whatToDoMarkdown } from '../report/what-to-do.js';
import { renderText } from '../report/text.js';
import { UsageError } from '../errors.js';
import { parseArgs } from './args.js';
import { usageLine } from './help.js';

export const COMPARE_USAGE = usageLine('compare');

const POLICIES: FailOn[] = ['new-leak', 'any-leak', 'never'];
export const EXIT_CODES = { pass: 0, fail: 1, inconclusive: 2 } as const;

function load(path: string, side: string): AnalysisResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`compare: ${side} ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`compare: ${side} ${path}: not JSON; expected the output of "alloc-balance analyze --json"`);
  }
  const problem = checkAnalysis(parsed);
  if (problem) throw new UsageError(`compare: ${side} ${path}: not an analysis (${problem}); expected the output of "alloc-balance analyze --json"`);
  return parsed as AnalysisResult;
}

export async function compareCommand(args: string[]): Promise<number> {
  const a = parseArgs('compare', args, { values: ['fail-on'], flags: ['json', 'markdown'] });
  if (a.positional.length !== 2) throw new UsageError(`compare: expected two analyses, base then PR; ${COMPARE_USAGE}`);
  const policies = a.values.get('fail-on') ?? ['new-leak'];
  const failOn = policies[policies.length - 1] as FailOn;
  if (!POLICIES.includes(failOn)) throw new UsageError(`compare: --fail-on "${failOn}" is not a policy; use one of ${POLICIES.join(', ')}`);
  if (a.flags.has('json') && a.flags.has('markdown')) throw new UsageError('compare: choose one of --json and --markdown');
  const base = load(a.positional[0], 'base');
  const pr = load(a.positional[1], 'PR');
  const c = compare(base, pr, failOn);
  if (a.flags.has('json')) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else if (a.flags.has('markdown'))
    process.stdout.write(
      renderMarkdown(c, {
        base,
        pr,
        whatToDo: whatToDoMarkdown({ comparison: c, base: { status: 'ok', analysis: base }, pr: { status: 'ok', analysis: pr } }),
      }),
    );
  else process.stdout.write(renderText(c));
  return EXIT_CODES[c.verdict];
}
