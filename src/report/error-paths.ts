// The error-path sweep in the reports: one row per call site failed, what each side's module
// left after that failure. The same lines feed the comment (markdown) and the terminal (text).
import { breakageText, siteName } from '../core/error-paths.js';
import type { Comparison, ErrorPathSite, ErrorPaths } from '../core/model.js';

export interface SweepSides {
  base?: ErrorPaths;
  pr?: ErrorPaths;
}

/** A site the sweep meant to fail and never reached: it stopped first. */
type Row = ErrorPathSite | { site: string; notSwept: true; allocator?: undefined; location?: undefined };

function leftText(s: Row | undefined, module?: string): string {
  if (!s) return '-';
  if ('notSwept' in s) return 'not swept';
  if (s.breakage?.kind === 'crash' || s.breakage?.kind === 'hang') return breakageText(s.breakage);
  if (!s.injected && !s.breakage) return 'not reached';
  if (s.incomplete) return 'trace incomplete';
  const leaks = s.leaks.map((l) => `${l.count} from ${siteName(l.caller, l.location)}`);
  const how = [
    !s.loaded ? 'insmod failed' : s.workload === 'failed' ? 'workload failed' : '',
    s.breakage ? breakageText(s.breakage, module) : '',
    s.splat ? `kernel: ${s.splat}` : '',
  ].filter((x) => x);
  return [leaks.length > 0 ? leaks.join(', ') : 'nothing', ...how.map((h) => `(${h})`)].join(' ');
}

/** A site by its function, for lining up base and PR (offsets differ between builds). */
function key(s: Row, nth: number): string {
  return `${siteName(s.site)}#${nth}`;
}

function keyed(e: ErrorPaths | undefined): Map<string, Row> {
  const out = new Map<string, Row>();
  const seen = new Map<string, number>();
  const rows: Row[] = [...(e?.sites ?? []), ...(e?.notSwept ?? []).map((site) => ({ site, notSwept: true as const }))];
  for (const s of rows) {
    const n = (seen.get(siteName(s.site)) ?? 0) + 1;
    seen.set(siteName(s.site), n);
    out.set(key(s, n), s);
  }
  return out;
}

/** Rows: [site failed, base leaves, PR leaves]. */
export function errorPathRows(sweeps: SweepSides): string[][] {
  const base = keyed(sweeps.base);
  const pr = keyed(sweeps.pr);
  const keys = [...new Set([...pr.keys(), ...base.keys()])];
  return keys.map((k) => {
    const both = [pr.get(k), base.get(k)];
    const s = both.find((x) => x && !('notSwept' in x)) ?? both.find((x) => x)!;
    const label = `${s.allocator ? `${s.allocator} at ` : ''}${siteName(s.site, s.location)}`;
    return [label, leftText(base.get(k), sweeps.base?.module), leftText(pr.get(k), sweeps.pr?.module)];
  });
}

function summary(c: Comparison, sweeps: SweepSides): string {
  const n = sweeps.pr?.sites.length ?? 0;
  const found = c.errorPaths?.length ?? 0;
  const noun = c.errorPaths?.some((f) => f.breakage) ? 'finding' : 'leak';
  const what = found === 0 ? 'no new leak' : `${found} new ${noun}${found === 1 ? '' : 's'}`;
  const sec = (e?: ErrorPaths) => (e ? `${Math.round(e.seconds)} s` : '-');
  return `Error paths: ${n} call site${n === 1 ? '' : 's'} failed one at a time, ${what} (base ${sec(sweeps.base)}, PR ${sec(sweeps.pr)})`;
}

function skippedLines(c: Comparison, sweeps: SweepSides): string[] {
  const stopped = (side: string, e?: ErrorPaths) => {
    if (!e?.stopped) return [];
    const left = e.notSwept?.length ?? 0;
    return [`${side}: the sweep stopped: ${e.stopped}${left > 0 ? `; ${left} site${left === 1 ? '' : 's'} not swept` : ''}`];
  };
  return [
    ...(sweeps.pr?.skipped ? [`PR: not swept: ${sweeps.pr.skipped}`] : []),
    ...(sweeps.base?.skipped ? [`base: not swept: ${sweeps.base.skipped}`] : []),
    ...stopped('PR', sweeps.pr),
    ...stopped('base', sweeps.base),
    ...(c.errorPathsNotCompared ?? []).map((f) => `not compared (the base's sweep never reached the site): ${f.text}`),
    ...(sweeps.pr?.notProbed?.length ? [`allocators the sweep cannot fail: ${sweeps.pr.notProbed.join(', ')}`] : []),
  ];
}

const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/</g, '&lt;');

/** The comment's "Error paths" section; null when neither side ran a sweep. */
export function errorPathsMarkdown(c: Comparison, sweeps: SweepSides): string | null {
  if (!sweeps.base && !sweeps.pr) return null;
  const lines = [...(c.errorPaths ?? []).map((f) => `- ❌ ${cell(f.text)}`), ...skippedLines(c, sweeps).map((l) => `- ${cell(l)}`)];
  const rows = errorPathRows(sweeps);
  if (rows.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('| Call site failed | Base leaves | PR leaves |', '|:--|:--|:--|', ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`));
  }
  return `<details${(c.errorPaths?.length ?? 0) > 0 ? ' open' : ''}><summary>${summary(c, sweeps)}</summary>\n\n${lines.join('\n')}\n\n</details>`;
}

/** The same for a terminal. */
export function errorPathsText(c: Comparison, sweeps: SweepSides): string[] {
  if (!sweeps.base && !sweeps.pr) return [];
  const rows = [['call site failed', 'base leaves', 'PR leaves'], ...errorPathRows(sweeps)];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return [
    '',
    summary(c, sweeps),
    ...rows.map((r) => `  ${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2]}`.trimEnd()),
    ...skippedLines(c, sweeps).map((l) => `  ${l}`),
  ];
}
