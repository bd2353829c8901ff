// The comparison as GitHub markdown: the one-line verdict, the balance table, then the
// details collapsed. Kept under a size limit (a PR comment holds 65,536 characters): details go
// first, then call-site rows, never the verdict.
import { errorPathsMarkdown, type SweepSides } from './error-paths.js';
import { COMMENT_MAX_CHARS } from './truncate.js';
import { pairName } from '../core/pair-spec.js';
import type { AnalysisResult, Comparison, ComparisonRow, PairResult, SideFigures, Verdict } from '../core/model.js';
import { freedAtUnload } from '../core/compare.js';
import { fmt } from './leak-text.js';
import { leakedBytesPerCycle } from '../core/leak-rate.js';
import { growthChart } from './chart.js';
import { statusLabel, signed } from './labels.js';
import { sourceUrl, type SourceRef } from './source-links.js';

interface MarkdownOptions {
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

/** 512 B, 1.5 KiB, 2 MiB. */
function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / (1024 * 1024), 'MiB'];
  return `${round1(value)} ${unit}`;
}

function round1(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** Objects per cycle; on a pair's row where the PR leaks, the bytes too ('? B' when the trace gives no sizes). */
function leakedCell(row: ComparisonRow, prBytes?: number | null): string {
  if (row.countedOnly) return '·';
  const side = (f: SideFigures | null) => (f ? fmt(f.leakedPerCycle) : '—');
  const bytes = prBytes === undefined || !row.pr || row.pr.leakedPerCycle <= 0 ? '' : `<br>${prBytes === null ? '? B' : bytesText(prBytes)}`;
  return `${side(row.base)} → ${side(row.pr)}${bytes}`;
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
function tableRow(row: ComparisonRow, verdict: Verdict, source?: SourceRef, pr?: AnalysisResult): string {
  const change = row.countedOnly ? '·' : signed(row.change);
  const pair = showsBytes(row, pr) ? pr?.pairs.find((p) => pairName(p) === row.pair) : undefined;
  const cells = [
    statusLabel(row.status, verdict),
    siteCell(row, source),
    pairCell(row.base),
    pairCell(row.pr),
    leakedCell(row, pair && leakedBytesPerCycle(pair)),
    change,
  ];
  return `| ${cells.join(' | ')} |`;
}

const TABLE_HEAD = ['| Status | Pair / call site | Base allocs/frees | PR allocs/frees | Leaked/cycle base → PR | Change |', '|:--|:--|--:|--:|--:|--:|'];

function details(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

/** Outstanding objects with the same call site and stack, one entry each with how many. */
interface ObjectGroup {
  caller: string;
  location?: string;
  stack?: string[];
  /** The cycles whose events allocated them, ascending, without repeats. */
  cycles: number[];
  addresses: string[];
  /** Bytes of each object when the trace gave them (kmem events), else undefined. */
  bytes?: number;
}

function groupObjects(objects: PairResult['objects']): ObjectGroup[] {
  const groups = new Map<string, ObjectGroup>();
  for (const o of objects) {
    const key = [o.caller, o.location ?? '', ...(o.stack ?? [])].join('\n');
    let g = groups.get(key);
    if (g === undefined) {
      g = { caller: o.caller, location: o.location, stack: o.stack, cycles: [], addresses: [], bytes: 0 };
      groups.set(key, g);
    }
    if (!g.cycles.includes(o.cycle)) g.cycles.push(o.cycle);
    g.addresses.push(o.address);
    g.bytes = g.bytes === undefined || o.bytes === undefined ? undefined : g.bytes + o.bytes;
  }
  for (const g of groups.values()) g.cycles.sort((a, b) => a - b);
  return [...groups.values()].sort((a, b) => b.addresses.length - a.addresses.length);
}

/** Addresses shown per group: enough to look one up in a crash dump, not a wall of hex. */
const ADDRESSES_SHOWN = 3;

function cyclesText(cycles: number[]): string {
  const name = (c: number) => (c === 0 ? 'load' : String(c));
  if (cycles.length === 1) return cycles[0] === 0 ? 'at load' : `cycle ${cycles[0]}`;
  const consecutive = cycles.every((c, k) => k === 0 || c === cycles[k - 1] + 1);
  return consecutive ? `cycles ${name(cycles[0])}–${cycles[cycles.length - 1]}` : `cycles ${cycles.map(name).join(', ')}`;
}

function objectsBlock(side: string, pairs: PairResult[], source?: SourceRef): string | null {
  const lines: string[] = [];
  for (const p of pairs) {
    const objs = p.objects.filter((o) => o.inModule !== false);
    if (objs.length === 0) continue;
    lines.push(`**${pairName(p)}**`, '');
    for (const g of groupObjects(objs)) {
      const n = g.addresses.length;
      const loc = g.location ? ` (${locationText(g.location, source)})` : '';
      const size = g.bytes !== undefined ? `, ${bytesText(g.bytes)}` : '';
      const shown = g.addresses.slice(0, ADDRESSES_SHOWN).map((a) => `\`${a}\``);
      const more = n > ADDRESSES_SHOWN ? ` and ${n - ADDRESSES_SHOWN} more` : '';
      const stack = g.stack?.length ? `<br>stack: \`${escapeCell(g.stack.join(' ← '))}\`` : '';
      const count = n === 1 ? '1 object' : `${n} objects`;
      lines.push(`- **${count}** from \`${escapeCell(g.caller)}\`${loc}, ${cyclesText(g.cycles)}${size}${stack}<br>at ${shown.join(', ')}${more}`);
    }
    lines.push('');
  }
  if (lines.length === 0) return null;
  return details(`Outstanding objects (${side})`, lines.join('\n').trimEnd());
}

function badFreesBlock(side: string, pairs: PairResult[], source?: SourceRef): string | null {
  const lines: string[] = [];
  for (const p of pairs) {
    const bad = p.badFrees ?? [];
    if (bad.length === 0) continue;
    lines.push(`**${pairName(p)}**`, '');
    for (const b of bad) {
      const loc = b.location ? ` (${locationText(b.location, source)})` : '';
      const what = b.kind === 'double-free' ? 'double free' : 'free of an address never allocated';
      const first =
        b.kind === 'double-free' ? ` (allocated by \`${escapeCell(b.allocatedBy ?? '?')}\`, first freed by \`${escapeCell(b.firstFreedBy ?? '?')}\`)` : '';
      const stack = b.stack?.length ? `<br>stack: \`${escapeCell(b.stack.join(' ← '))}\`` : '';
      lines.push(`- ${what} of \`${b.address}\` by \`${escapeCell(b.caller)}\`${loc}, cycle ${b.cycle}, ${b.fn}${first}${stack}`);
    }
    lines.push('');
  }
  if (lines.length === 0) return null;
  return details(`Bad frees (${side})`, lines.join('\n').trimEnd());
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
    const judged = (name: string, f: SideFigures | null) =>
      f?.judged
        ? `${name}: ${f.judged.text}${freedAtUnload(f) ? ', all freed at unload' : f.outstanding > 0 ? `, ${f.outstanding} left after unload` : ''}`
        : '';
    const how = [judged('base', r.base), judged('PR', r.pr)].filter((x) => x !== '');
    if (how.length > 0) parts.push('', `Rate judged — ${escapeCell(how.join('; '))}`);
    if (chart) parts.push('', chart);
    parts.push('');
  }
  if (parts.length === 0) return null;
  return details('Outstanding objects after each cycle', parts.join('\n').trimEnd());
}

/** A reason the headline already says: "pair: PR leaks …" against "PR leaks … on pair …" or "PR leaks … at site …". */
function repeatsHeadline(reason: string, headline: string): boolean {
  if (headline.includes(reason)) return true;
  const colon = reason.indexOf(': ');
  if (colon <= 0) return false;
  const pair = reason.slice(0, colon);
  return headline.replace(` on ${pair}`, '').includes(reason.slice(colon + 2));
}

function problemsBlock(c: Comparison, base?: AnalysisResult, pr?: AnalysisResult): string | null {
  const lines = [
    ...c.reasons.filter((r) => !repeatsHeadline(r, c.headline)).map((r) => `- ${r}`),
    ...(pr?.problems ?? []).map((p) => `- PR: ${p}`),
    ...(base?.problems ?? []).map((p) => `- base: ${p}`),
  ];
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

/** What a pair's own row counts: said once under the table, where "(module)" is used. */
export const MODULE_ROW_NOTE = "(module): the pair over all the module's call sites, the row the verdict reads; the rows under it are its call sites";

/** Said once under the table when a row shows bytes: where they come from, and what '?' means. */
export const BYTES_NOTE = 'bytes per cycle: the sizes the kmem events give; ? where the trace has none (kprobe pairs)';

/** The PR side leaks on a pair's row: its leaked cell gives bytes too. */
function showsBytes(row: ComparisonRow, pr?: AnalysisResult): boolean {
  return Boolean(row.total && !row.countedOnly && pr && row.pr && row.pr.leakedPerCycle > 0);
}

function sides(c: Comparison, context?: string, pr?: AnalysisResult): string {
  const side = (name: string, s: Comparison['base']) =>
    `${name}: ${s.cycles} cycle${s.cycles === 1 ? '' : 's'}${s.complete ? '' : `, incomplete${s.lostEvents ? ` (${s.lostEvents} events lost)` : ''}`}`;
  const notes = [c.rows.some((r) => r.total) ? MODULE_ROW_NOTE : '', c.rows.some((r) => showsBytes(r, pr)) ? BYTES_NOTE : ''].filter((n) => n !== '');
  const note = notes.map((n) => `${n}<br>`).join('');
  return `<sub>${note}${side('base', c.base)} · ${side('PR', c.pr)} · fail-on: ${c.failOn}${context ? `<br>${context}` : ''}</sub>`;
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
    badFreesBlock('PR', opts.pr?.pairs ?? [], opts.source),
    badFreesBlock('base', opts.base?.pairs ?? []),
    errorPathsMarkdown(c, opts.errorPaths ?? {}),
    growthBlock(c),
    objectsBlock('PR', opts.pr?.pairs ?? [], opts.source),
    objectsBlock('base', opts.base?.pairs ?? []),
    problemsBlock(c, opts.base, opts.pr),
    crossCheckBlock(opts.base, opts.pr),
  ].filter((b): b is string => b !== null);
  const rowLines = rows.map((r) => tableRow(r, c.verdict, opts.source, opts.pr));
  const footer = ['', sides(c, opts.context, opts.pr)];

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
