// The comparison as GitHub markdown: the one-line verdict, the balance table, then the
// details collapsed. Kept under a size limit (a PR comment holds 65,536 characters): details go
// first, then call-site rows, never the verdict.
import { errorPathsMarkdown, type SweepSides } from './error-paths.js';
import { COMMENT_MAX_CHARS } from '../github/truncate.js';
import { pairName } from '../core/pair-spec.js';
import type { AnalysisResult, Comparison, ComparisonRow, PairResult, SideFigures, Verdict } from '../core/model.js';
import { fmt } from '../core/compare.js';
import { growthChart } from './chart.js';
import { statusLabel, signed } from './labels.js';
import { sourceUrl, type SourceRef } from './source-links.js';

export interface MarkdownOptions {
  /** Maximum length of the whole text. */
  limit?: number;
  /** Heading above the verdict; '' for none. */
  title?: string;
  /** The analyses the comparison came from: their outstanding objects, problems and cross-checks go in the details. */
  base?: AnalysisResult;
  pr?: AnalysisResult;
  /** The PR head on GitHub: call sites link to their file:line there. */
  source?: SourceRef;
  /** One more line of small print under the table (commits, kernel, target, the run). */
  context?: string;
  /** Under the verdict of an inconclusive run: what to do about it (never cut). */
  whatToDo?: string;
  /** The PR's changed functions and their calls, a line under the verdict. */
  changed?: string;
  /** The error-path sweeps of the sides. */
  errorPaths?: SweepSides;
}

export function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

function pairCell(f: SideFigures | null): string {
  return f ? `${f.allocs}/${f.frees}` : '—';
}

function leakedCell(row: ComparisonRow): string {
  if (row.countedOnly) return '·';
  const side = (f: SideFigures | null) => (f ? fmt(f.leakedPerCycle) : '—');
  return `${side(row.base)} → ${side(row.pr)}`;
}

function locationText(location: string, source?: SourceRef): string {
  const url = source ? sourceUrl(location, source) : null;
  if (!url) return escapeCell(location);
  return `[${escapeCell(location.split('/').pop() ?? location)}](${url})`;
}

function siteCell(row: ComparisonRow, source?: SourceRef): string {
  if (row.total) return `**${row.pair}** (module)`;
  const where = row.inModule === false ? ' (outside the module)' : '';
  // A call site the PR no longer has is not in the head's source: its line is the base's.
  const loc = row.location ? ` ${locationText(row.location, row.pr ? source : undefined)}` : '';
  return `&nbsp;&nbsp;\`${escapeCell(row.caller)}\`${loc}${where}`;
}

/** Status first: on a narrow screen the columns on the right are the ones cut off. */
export function tableRow(row: ComparisonRow, verdict: Verdict, source?: SourceRef): string {
  const change = row.countedOnly ? '·' : signed(row.change);
  const cells = [statusLabel(row.status, verdict), siteCell(row, source), pairCell(row.base), pairCell(row.pr), leakedCell(row), change];
  return `| ${cells.join(' | ')} |`;
}

const TABLE_HEAD = ['| Status | Pair / call site | Base allocs/frees | PR allocs/frees | Leaked/cycle base → PR | Change |', '|:--|:--|--:|--:|--:|--:|'];

function details(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

function objectsBlock(side: string, pairs: PairResult[], source?: SourceRef): string | null {
  const lines: string[] = [];
  for (const p of pairs) {
    const objs = p.objects.filter((o) => o.inModule !== false);
    if (objs.length === 0) continue;
    lines.push(`**${pairName(p)}**`, '');
    for (const o of objs) {
      const loc = o.location ? ` (${locationText(o.location, source)})` : '';
      const stack = o.stack?.length ? `<br>stack: \`${escapeCell(o.stack.join(' ← '))}\`` : '';
      lines.push(`- \`${o.address}\` from \`${escapeCell(o.caller)}\`${loc}, cycle ${o.cycle}${stack}`);
    }
    lines.push('');
  }
  if (lines.length === 0) return null;
  return details(`Outstanding objects (${side})`, lines.join('\n').trimEnd());
}

function growthBlock(c: Comparison): string | null {
  const totals = c.rows.filter((r) => r.total);
  const parts: string[] = [];
  for (const r of totals) {
    const chart = growthChart(r);
    const b = r.base?.growth ?? [];
    const p = r.pr?.growth ?? [];
    if (b.length < 2 && p.length < 2) continue;
    parts.push(`**${r.pair}** — outstanding (module call sites) after each cycle: base ${JSON.stringify(b)}, PR ${JSON.stringify(p)}`);
    if (chart) parts.push('', chart);
    parts.push('');
  }
  if (parts.length === 0) return null;
  return details('Outstanding objects after each cycle', parts.join('\n').trimEnd());
}

function problemsBlock(c: Comparison, base?: AnalysisResult, pr?: AnalysisResult): string | null {
  const lines = [...c.reasons.map((r) => `- ${r}`), ...(pr?.problems ?? []).map((p) => `- PR: ${p}`), ...(base?.problems ?? []).map((p) => `- base: ${p}`)];
  const unmatched = [
    ...(pr?.pairs ?? [])
      .filter((p) => p.unmatchedFrees > 0)
      .map((p) => `- PR: ${pairName(p)}: ${p.unmatchedFrees} free(s) of objects allocated before the trace began`),
    ...(base?.pairs ?? [])
      .filter((p) => p.unmatchedFrees > 0)
      .map((p) => `- base: ${pairName(p)}: ${p.unmatchedFrees} free(s) of objects allocated before the trace began`),
  ];
  const all = [...lines, ...unmatched];
  if (all.length === 0) return null;
  return details('Reasons and problems', all.join('\n'));
}

function crossCheckBlock(base?: AnalysisResult, pr?: AnalysisResult): string | null {
  const lines: string[] = [];
  for (const [side, a] of [
    ['PR', pr],
    ['base', base],
  ] as const) {
    for (const x of a?.crossCheck ?? []) {
      const agree = x.agree ? '✅ agree' : '⚠️ differ';
      lines.push(`- ${side} ${x.pair}: probes ${x.kprobeAllocs} allocations, function tracer ${x.functionAllocs} calls ${agree}`);
    }
    for (const x of a?.slabCheck ?? []) lines.push(`- ${side} /proc/slabinfo, ${x.text}`);
    const slab = a?.slabCheck ? [] : (a?.slab ?? []).slice(0, 10);
    if (slab.length) {
      lines.push(`- ${side} /proc/slabinfo (active objects): ${slab.map((s) => `${s.cache} ${s.delta > 0 ? '+' : ''}${s.delta}`).join(', ')}`);
    }
  }
  if (lines.length === 0) return null;
  return details('Cross-checks', lines.join('\n'));
}

function sides(c: Comparison, context?: string): string {
  const side = (name: string, s: Comparison['base']) =>
    `${name}: ${s.cycles} cycle${s.cycles === 1 ? '' : 's'}${s.complete ? '' : `, incomplete${s.lostEvents ? ` (${s.lostEvents} events lost)` : ''}`}`;
  return `<sub>${side('base', c.base)} · ${side('PR', c.pr)} · fail-on: ${c.failOn}${context ? `<br>${context}` : ''}</sub>`;
}

function cutNote(rows: number, blocks: number, limit: number): string {
  const what = [rows ? `${rows} call-site row${rows === 1 ? '' : 's'}` : '', blocks ? `${blocks} detail section${blocks === 1 ? '' : 's'}` : '']
    .filter((s) => s !== '')
    .join(' and ');
  return `> ✂️ Cut to fit ${limit.toLocaleString('en-US')} characters: ${what} left out. The JSON report holds everything.`;
}

export function renderMarkdown(c: Comparison, opts: MarkdownOptions = {}): string {
  const limit = opts.limit ?? COMMENT_MAX_CHARS;
  const head = [
    ...(opts.title === '' ? [] : [`### ${opts.title ?? 'alloc-balance'}`, '']),
    `**${c.headline}**`,
    '',
    ...(opts.changed ? [`Changed: ${escapeCell(opts.changed)}`, ''] : []),
    ...(opts.whatToDo ? [opts.whatToDo, ''] : []),
  ];
  const rows = c.rows;
  const blocks = [
    errorPathsMarkdown(c, opts.errorPaths ?? {}),
    growthBlock(c),
    objectsBlock('PR', opts.pr?.pairs ?? [], opts.source),
    objectsBlock('base', opts.base?.pairs ?? []),
    problemsBlock(c, opts.base, opts.pr),
    crossCheckBlock(opts.base, opts.pr),
  ].filter((b): b is string => b !== null);
  const rowLines = rows.map((r) => tableRow(r, c.verdict, opts.source));
  const footer = ['', sides(c, opts.context)];

  const assemble = (keptRows: boolean[], keptBlocks: number, note: string): string => {
    const lines = [...head];
    if (rows.length > 0) lines.push(...TABLE_HEAD, ...rowLines.filter((_, k) => keptRows[k]));
    else lines.push('_No pair was traced._');
    lines.push(...footer);
    if (note) lines.push('', note);
    for (let k = 0; k < keptBlocks; k++) lines.push('', blocks[k]);
    return `${lines.join('\n')}\n`;
  };

  const kept = rows.map(() => true);
  let keptBlocks = blocks.length;
  let text = assemble(kept, keptBlocks, '');
  if (text.length <= limit) return text;
  const noteFor = () => cutNote(kept.filter((k) => !k).length, blocks.length - keptBlocks, limit);
  while (keptBlocks > 0) {
    keptBlocks--;
    text = assemble(kept, keptBlocks, noteFor());
    if (text.length <= limit) return text;
  }
  // Call-site rows from the bottom, then total rows; lengths tracked to stay linear.
  let length = text.length;
  for (const totalPass of [false, true]) {
    for (let k = rows.length - 1; k >= 0 && length > limit; k--) {
      if (!kept[k] || Boolean(rows[k].total) !== totalPass) continue;
      const before = noteFor().length;
      kept[k] = false;
      length -= rowLines[k].length + 1;
      length += noteFor().length - before;
    }
  }
  text = assemble(kept, 0, noteFor());
  if (text.length <= limit) return text;
  // Only the verdict fits.
  const verdict = `**${c.headline}**\n\n${cutNote(rows.length, blocks.length, limit)}\n`;
  return verdict.length <= limit ? verdict : verdict.slice(0, limit);
}
