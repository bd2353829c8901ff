// Outstanding objects after each workload cycle, base against PR, as a Mermaid xychart
// (GitHub renders ```mermaid blocks). xychart has no legend: the colours are set by an init
// directive and named in the title. A chart of lines alone puts the first and last cycle on the
// plot's edges, where the last label is cut off; an empty bar series (all zero, drawn
// transparent) makes the x axis a band scale, each cycle in the middle of its band.
import type { ComparisonRow } from '../core/model.js';

/** Base, then PR: a blue and an orange that read on GitHub's light and dark backgrounds alike. */
export const LINE_COLOURS = { base: '#2f81f7', pr: '#e16f24' } as const;

/**
 * d3 (Mermaid's scale) puts about ten ticks on an axis: over a span under ten objects some
 * would fall between integers.
 */
const MIN_SPAN = 10;

function series(values: number[], length: number): number[] {
  if (values.length === 0) return new Array<number>(length).fill(0);
  const out = values.slice(0, length);
  while (out.length < length) out.push(values[values.length - 1]);
  return out;
}

/** A chart of a few points: GitHub's comment is 830 px wide, the chart should not be taller than a screen's third. */
const CHART_SIZE = { width: 700, height: 280 } as const;

/** The y-axis range: from 0 (or the lowest value, when below), at least MIN_SPAN high. */
export function yRange(values: number[]): [number, number] {
  const low = Math.floor(Math.min(0, ...values));
  const high = Math.max(Math.ceil(Math.max(...values)), low + MIN_SPAN);
  return [low, high];
}

/** A chart for one pair's total row, or '' when neither side ran two cycles or more. */
export function growthChart(row: ComparisonRow): string {
  const base = row.base?.growth ?? [];
  const pr = row.pr?.growth ?? [];
  const n = Math.max(base.length, pr.length);
  if (n < 2) return '';
  const b = series(base, n);
  const p = series(pr, n);
  const [low, high] = yRange([...b, ...p]);
  const init = {
    xyChart: CHART_SIZE,
    themeVariables: { xyChart: { plotColorPalette: `transparent, ${LINE_COLOURS.base}, ${LINE_COLOURS.pr}` } },
  };
  const padNote = base.length !== pr.length ? `\n\nThe shorter run is drawn flat after its last cycle (base ${base.length} cycles, PR ${pr.length}).` : '';
  return (
    [
      '```mermaid',
      `%%{init: ${JSON.stringify(init)}}%%`,
      'xychart-beta',
      `    title "${row.pair}: base (blue) vs PR (orange)"`,
      `    x-axis "cycle" [${Array.from({ length: n }, (_, k) => k + 1).join(', ')}]`,
      `    y-axis "outstanding objects" ${low} --> ${high}`,
      `    bar [${new Array<number>(n).fill(0).join(', ')}]`,
      `    line [${b.join(', ')}]`,
      `    line [${p.join(', ')}]`,
      '```',
    ].join('\n') + padNote
  );
}
