// Plain-text renderings for a terminal: the comparison and a single analysis.
import { errorPathsText, type SweepSides } from './error-paths.js';
import { pairName } from '../core/pair-spec.js';
import type { AnalysisResult, Comparison, ComparisonRow, SideFigures } from '../core/model.js';
import { fmt } from './leak-text.js';
import { statusLabel, signed } from './labels.js';

function table(header: string[], rows: string[][], rightAligned: (col: number) => boolean): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((v, c) => (rightAligned(c) ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function side(f: SideFigures | null, row: ComparisonRow): string[] {
  if (!f) return ['-', '-', '-'];
  return [String(f.allocs), String(f.frees), row.countedOnly ? '.' : fmt(f.leakedPerCycle)];
}

function where(inModule: boolean | null): string {
  return inModule === true ? 'yes' : inModule === false ? 'no' : '?';
}

/** The comparison for a terminal; with the analyses it came from, their problems follow the reasons. */
export function renderText(c: Comparison, analyses: { base?: AnalysisResult; pr?: AnalysisResult; errorPaths?: SweepSides } = {}): string {
  const header = ['pair / call site', 'base allocs', 'frees', 'leaked/cycle', 'PR allocs', 'frees', 'leaked/cycle', 'change', 'status'];
  const rows = c.rows.map((r) => [
    r.total ? r.pair : `  ${r.caller}${r.inModule === false ? ' (outside)' : ''}`,
    ...side(r.base, r),
    ...side(r.pr, r),
    r.countedOnly ? '.' : signed(r.change),
    statusLabel(r.status, c.verdict),
  ]);
  const out = [c.headline, '', ...table(header, rows, (col) => col >= 1 && col <= 7)];
  out.push(
    '',
    `base: ${c.base.cycles} cycle(s)${c.base.complete ? '' : ', INCOMPLETE'} · ` +
      `PR: ${c.pr.cycles} cycle(s)${c.pr.complete ? '' : ', INCOMPLETE'} · fail-on: ${c.failOn}`,
  );
  out.push(...errorPathsText(c, analyses.errorPaths ?? {}));
  if (c.reasons.length) out.push('', ...c.reasons.map((r) => `- ${r}`));
  const problems = [...(analyses.pr?.problems ?? []).map((p) => `- PR: ${p}`), ...(analyses.base?.problems ?? []).map((p) => `- base: ${p}`)];
  if (problems.length) out.push('', 'problems:', ...problems);
  return `${out.join('\n')}\n`;
}

/** What the analysis says of the module's call sites when no call site could be attributed. */
const MODULE_UNKNOWN = 'unknown (give --module NAME with --nm/--sections)';

export function renderAnalysisText(a: AnalysisResult): string {
  const out: string[] = [];
  const state = a.complete ? 'complete' : `INCOMPLETE${a.lostEvents ? ` (${a.lostEvents} events lost)` : ''}`;
  out.push(`${a.cycles} cycle${a.cycles === 1 ? '' : 's'}, trace ${state}`);
  for (const p of a.pairs) {
    out.push('', `${pairName(p)} (${p.method === 'function' ? 'function tracer: calls counted' : `${p.method}: objects paired by address`})`);
    // No call site known to be the module's or not: the module's figures would be everyone's.
    const attributed = p.callers.some((c) => c.inModule !== null);
    const rows = p.callers.map((c) => [`  ${c.caller}`, where(c.inModule), String(c.allocs), String(c.frees), String(c.outstanding)]);
    rows.push(['  all call sites', '', String(p.allocs), String(p.frees), String(p.outstanding)]);
    if (attributed) rows.push(['  module call sites', '', String(p.module.allocs), String(p.module.frees), String(p.module.outstanding)]);
    out.push(...table(['  call site', 'in module', 'allocs', 'frees', 'outstanding'], rows, (col) => col >= 2));
    if (!attributed) out.push(`  module call sites: ${MODULE_UNKNOWN}`);
    const growth = (p.moduleCycles ?? p.cycles).filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter);
    out.push(
      `  leaked per cycle (${attributed ? 'module' : 'all call sites'}): ${fmt(p.leakedPerCycle)}` +
        `${a.cycles >= 2 ? `; outstanding after each cycle: ${growth.join(' ')}${p.growth ? ` (${p.growth.text})` : ''}` : ''}`,
    );
    for (const b of p.badFrees ?? []) {
      out.push(
        `  bad free: ${b.kind} of ${b.address} by ${b.caller}${b.location ? ` (${b.location})` : ''}, cycle ${b.cycle}` +
          `${b.stack?.length ? ` [${b.stack.join(' <- ')}]` : ''}`,
      );
    }
    if (p.unmatchedFrees > 0) out.push(`  frees of objects allocated before the trace: ${p.unmatchedFrees}`);
    for (const o of p.objects.filter((x) => x.inModule !== false).slice(0, 20)) {
      out.push(
        `  outstanding ${o.address} from ${o.caller}${o.location ? ` (${o.location})` : ''}, ` +
          `cycle ${o.cycle}${o.stack?.length ? ` [${o.stack.join(' <- ')}]` : ''}`,
      );
    }
  }
  for (const x of a.crossCheck ?? [])
    out.push('', `cross-check ${x.pair}: probes ${x.kprobeAllocs}, function tracer ${x.functionAllocs}: ${x.agree ? 'agree' : 'DIFFER'}`);
  if (a.slabCheck?.length) out.push('', ...a.slabCheck.map((x) => `slabinfo cross-check ${x.text}`));
  else if (a.slab?.length)
    out.push(
      '',
      `slabinfo: ${a.slab
        .slice(0, 10)
        .map((s) => `${s.cache} ${s.delta > 0 ? '+' : ''}${s.delta}`)
        .join(', ')}`,
    );
  if (a.problems.length) out.push('', 'problems:', ...a.problems.map((p) => `- ${p}`));
  return `${out.join('\n')}\n`;
}
