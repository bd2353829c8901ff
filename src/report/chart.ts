// Outstanding objects after each workload cycle, base against PR, as a Mermaid xychart
// (GitHub renders ```mermaid blocks).
import type { ComparisonRow } from '../core/model.js';

function series(values: number[], length: number): number[] {
  if (values.length === 0) return new Array<number>(length).fill(0);
  const out = values.slice(0, length);
  while (out.length < length) out.push(values[values.length - 1]);
  return out;
}

/** A chart for one pair's total row, or '' when neither side ran two cycles or more. */
export function growthChart(row: ComparisonRow): string {
  const base = row.base?.growth ?? [];
  const pr = row.pr?.growth ?? [];
  const n = Math.max(base.length, pr.length);
  if (n < 2) return '';
  const b = series(base, n);
  const p = series(pr, n);
  const max = Math.max(1, ...b, ...p);
  const min = Math.min(0, ...b, ...p);
  const padNote = base.length !== pr.length ? ` The shorter run is drawn flat after its last cycle (base ${base.length} cycles, PR ${pr.length}).` : '';
  return [
    '```mermaid',
    'xychart-beta',
    `    title "${row.pair}: outstanding after each cycle"`,
    `    x-axis "cycle" [${Array.from({ length: n }, (_, k) => k + 1).join(', ')}]`,
    `    y-axis "objects" ${min} --> ${max}`,
    `    line [${b.join(', ')}]`,
    `    line [${p.join(', ')}]`,
    '```',
    '',
    `First line: base ${JSON.stringify(b)}; second line: PR ${JSON.stringify(p)}.${padNote}`,
  ].join('\n');
}
