// The error-path sweep in the reports: one row per call site failed, what each side's module
// left after that failure. The same lines feed the comment (markdown) and the terminal (text).
import { siteName } from '../core/error-paths.js';
import type { Comparison, ErrorPathSite, ErrorPaths } from '../core/model.js';

export interface SweepSides {
  base?: ErrorPaths;
  pr?: ErrorPaths;
}

function leftText(s: ErrorPathSite | undefined): string {
  if (!s) return '-';
  if (!s.injected) return 'not reached';
  if (s.incomplete) return 'trace incomplete';
  const leaks = s.leaks.map((l) => `${l.count} from ${siteName(l.caller, l.location)}`);
  const how = [!s.loaded ? 'insmod failed' : s.workload === 'failed' ? 'workload failed' : '', s.splat ? `kernel: ${s.splat}` : ''].filter((x) => x);
  return [leaks.length > 0 ? leaks.join(', ') : 'nothing', ...how.map((h) => `(${h})`)].join(' ');
}

/** A site by its function and allocator, for lining up base and PR (offsets differ between builds). */
function key(s: ErrorPathSite, nth: number): string {
  return `${siteName(s.site)}#${nth}`;
}

function keyed(sites: ErrorPathSite[]): Map<string, ErrorPathSite> {
  const out = new Map<string, ErrorPathSite>();
  const seen = new Map<string, number>();
  for (const s of sites) {
    const n = (seen.get(siteName(s.site)) ?? 0) + 1;
    seen.set(siteName(s.site), n);
    out.set(key(s, n), s);
  }
  return out;
}

/** Rows: [site failed, base leaves, PR leaves]. */
export function errorPathRows(sweeps: SweepSides): string[][] {
  const base = keyed(sweeps.base?.sites ?? []);
  const pr = keyed(sweeps.pr?.sites ?? []);
  const keys = [...new Set([...pr.keys(), ...base.keys()])];
  return keys.map((k) => {
    const s = pr.get(k) ?? base.get(k)!;
    const label = `${s.allocator ? `${s.allocator} at ` : ''}${siteName(s.site, s.location)}`;
    return [label, leftText(base.get(k)), leftText(pr.get(k))];
  });
}

function summary(c: Comparison, sweeps: SweepSides): string {
  const n = sweeps.pr?.sites.length ?? 0;
  const found = c.errorPaths?.length ?? 0;
  const sec = (e?: ErrorPaths) => (e ? `${Math.round(e.seconds)} s` : '-');
  return `Error paths: ${n} call site${n === 1 ? '' : 's'} failed one at a time, ${found === 0 ? 'no new leak' : `${found} new leak${found === 1 ? '' : 's'}`} (base ${sec(sweeps.base)}, PR ${sec(sweeps.pr)})`;
}

function skippedLines(sweeps: SweepSides): string[] {
  return [
    ...(sweeps.pr?.skipped ? [`PR: not swept: ${sweeps.pr.skipped}`] : []),
    ...(sweeps.base?.skipped ? [`base: not swept: ${sweeps.base.skipped}`] : []),
    ...(sweeps.pr?.notProbed?.length ? [`allocators the sweep cannot fail: ${sweeps.pr.notProbed.join(', ')}`] : []),
  ];
}

const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/</g, '&lt;');

/** The comment's "Error paths" section; null when neither side ran a sweep. */
export function errorPathsMarkdown(c: Comparison, sweeps: SweepSides): string | null {
  if (!sweeps.base && !sweeps.pr) return null;
  const lines = [...(c.errorPaths ?? []).map((f) => `- ❌ ${cell(f.text)}`), ...skippedLines(sweeps).map((l) => `- ${cell(l)}`)];
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
    ...skippedLines(sweeps).map((l) => `  ${l}`),
  ];
}
