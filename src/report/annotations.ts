// What a report adds around the balance table: check-run annotations at the leaking source
// lines, and the log excerpt of a side that did not run cleanly.
import type { RunReport, SideRun } from '../core/model.js';
import { describeStatus } from './status-text.js';
import { plainText } from './plain-text.js';

/** A leaking call site at a module source line (path relative to the repository root). */
export interface AnnotationInput {
  path: string;
  line: number;
  message: string;
  /** Default failure. */
  level?: 'failure' | 'warning';
  title?: string;
}

const LEAKING = new Set(['new-leak', 'worse', 'same-leak']);
const EXCERPT_LIMIT = 6000;

/** One annotation per leaking module call site with a known file:line. */
export function annotationsFor(report: RunReport): AnnotationInput[] {
  const out: AnnotationInput[] = [];
  const seen = new Set<string>();
  for (const row of report.comparison.rows) {
    if (!LEAKING.has(row.status) || row.inModule === false || !row.location || !row.pr) continue;
    const m = /^(.*):(\d+)$/.exec(row.location);
    if (!m || seen.has(row.location)) continue;
    seen.add(row.location);
    const runner = row.runner ? ` on ${row.runner}` : '';
    const [alloc, free] = row.pair.split(':');
    out.push({
      path: m[1],
      line: Number(m[2]),
      level: row.status === 'same-leak' ? 'warning' : 'failure',
      title: `${row.pair}: ${row.pr.leakedPerCycle} leaked per cycle`,
      message:
        `${row.caller} allocates with ${alloc} and ${row.pr.leakedPerCycle} object(s) per workload cycle are never released by ${free}${runner} ` +
        `(base: ${row.base ? row.base.leakedPerCycle : 'not measured'}).`,
    });
  }
  return out;
}

function fence(raw: string): string {
  const text = plainText(raw);
  const cut = text.length > EXCERPT_LIMIT ? `…\n${text.slice(-EXCERPT_LIMIT)}` : text;
  return `\n\`\`\`text\n${cut.replace(/```/g, "'''")}\n\`\`\`\n`;
}

function sideLog(label: string, run: SideRun): string {
  if (run.status === 'ok' && !run.logExcerpt) return '';
  const excerpt = run.logExcerpt ? fence(run.logExcerpt) : '\n';
  return `\n<details><summary>${label}: ${plainText(describeStatus(run)).replace(/</g, '&lt;')}</summary>\n${excerpt}</details>\n`;
}

/** Collapsed log excerpts of the sides that did not run cleanly ('' when both did). */
export function runLogsMarkdown(report: RunReport): string {
  return sideLog('PR', report.pr) + sideLog('base', report.base);
}
