// The PR comment in a real browser at GitHub's comment width, light and dark: the whole table
// inside the comment box, every row's status on screen, a chart whose two lines are drawn in
// different colours that stand out from the background, integer ticks. The screenshots it takes
// are docs/comment-light.png and docs/comment-dark.png (the README shows the light one).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { renderComment as renderCommentMarkdown } from '../../src/report/comment.js';
import { LINE_COLOURS } from '../../src/report/chart.js';
import { COMMENT_WIDTH, launchChromium, renderComment, type Scheme } from '../support/github-page.js';
import { recordedReport } from '../support/recorded-report.js';

const DOCS = join(import.meta.dirname, '..', '..', 'docs');

let browser: Browser;
let markdown = '';

beforeAll(async () => {
  browser = await launchChromium();
  markdown = renderCommentMarkdown(await recordedReport(), {
    checkName: 'alloc-balance',
    runUrl: 'https://github.com/nic-lab/kni-driver/actions/runs/14120386231',
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

interface Measured {
  boxRight: number;
  contentRight: number;
  table: { scrollWidth: number; clientWidth: number; right: number };
  headers: { text: string; right: number }[];
  statuses: { text: string; right: number; visible: boolean }[];
  lines: { stroke: string; rgb: string; width: number; points: number }[];
  background: string;
  yTicks: string[];
  xLabels: { text: string; left: number; right: number }[];
  chart: { left: number; right: number; height: number };
  /** The opened "Reproduce locally" block: its commands and how far its code box reaches. */
  reproduce: { commands: string; right: number; scrollWidth: number; clientWidth: number };
  /** The opened "Outstanding objects (PR)" block's entries. */
  objects: string[];
  leakedCells: string[];
}

/** Contrast ratio (WCAG) of two rgb() colours. */
function contrast(a: string, b: string): number {
  const channels = (c: string): number[] => {
    const rgb = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(c);
    if (rgb) return rgb.slice(1, 4).map(Number);
    throw new Error(`not a colour: ${c}`);
  };
  const lum = (c: string) => {
    const [r, g, b2] = channels(c).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b2;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe.each<Scheme>(['light', 'dark'])(`the demo comment on GitHub at ${COMMENT_WIDTH} px, %s mode`, (scheme) => {
  let measured: Measured;
  let refused: string[];

  beforeAll(async () => {
    const rendered = await renderComment(browser, markdown, scheme);
    refused = rendered.refused;
    try {
      measured = await rendered.page.evaluate(() => {
        // Opened as a reader who acts on the comment opens them; the screenshots show them too.
        const summaryOf = (d: Element) => d.querySelector('summary')?.textContent ?? '';
        const opened = [...document.querySelectorAll('details')].filter((d) => ['Reproduce locally', 'Outstanding objects (PR)'].includes(summaryOf(d)));
        for (const d of opened) (d as HTMLDetailsElement).open = true;
        const reproduce = opened.find((d) => summaryOf(d) === 'Reproduce locally')!.querySelector('pre')!;
        const objectsBlock = opened.find((d) => summaryOf(d) === 'Outstanding objects (PR)')!;
        const box = document.querySelector('#comment')!;
        const body = box.querySelector('.markdown-body')!;
        const style = getComputedStyle(body);
        const table = body.querySelector('table')!;
        const right = (e: Element) => e.getBoundingClientRect().right;
        const svg = body.querySelector('.mermaid-chart svg')!;
        const rgb = (colour: string) => {
          const probe = document.createElement('span');
          probe.style.color = colour;
          document.body.append(probe);
          const value = getComputedStyle(probe).color;
          probe.remove();
          return value;
        };
        const paths = [...svg.querySelectorAll('g.plot g[class^="line-plot-"] path')];
        return {
          boxRight: right(box),
          contentRight: body.getBoundingClientRect().right - parseFloat(style.paddingRight),
          table: { scrollWidth: table.scrollWidth, clientWidth: table.clientWidth, right: right(table) },
          headers: [...table.querySelectorAll('thead th')].map((th) => ({ text: th.textContent ?? '', right: right(th) })),
          statuses: [...table.querySelectorAll('tbody tr td:first-child')].map((td) => {
            const r = td.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
            return { text: td.textContent ?? '', right: r.right, visible: hit === td || td.contains(hit) };
          }),
          lines: paths.map((p) => ({
            stroke: p.getAttribute('stroke') ?? '',
            rgb: rgb(p.getAttribute('stroke') ?? ''),
            width: parseFloat(p.getAttribute('stroke-width') ?? '0'),
            points: (p.getAttribute('d') ?? '').split(/[ML]/).filter((s) => s.trim() !== '').length,
          })),
          background: rgb(svg.querySelector('rect.background')?.getAttribute('fill') ?? ''),
          yTicks: [...svg.querySelectorAll('g.left-axis g.label text')].map((t) => t.textContent ?? ''),
          xLabels: [...svg.querySelectorAll('g.bottom-axis g.label text')].map((t) => {
            const r = t.getBoundingClientRect();
            return { text: t.textContent ?? '', left: r.left, right: r.right };
          }),
          chart: (() => {
            const r = (svg.querySelector('rect.background') ?? svg).getBoundingClientRect();
            return { left: r.left, right: r.right, height: r.height };
          })(),
          reproduce: {
            commands: reproduce.textContent ?? '',
            right: right(reproduce),
            scrollWidth: reproduce.scrollWidth,
            clientWidth: reproduce.clientWidth,
          },
          objects: [...objectsBlock.querySelectorAll('li')].map((li) => li.textContent ?? ''),
          leakedCells: [...table.querySelectorAll('tbody tr td:nth-child(5)')].map((td) => td.innerHTML),
        };
      });
      mkdirSync(DOCS, { recursive: true });
      const handle = await rendered.page.$('#comment');
      await handle!.screenshot({ path: join(DOCS, `comment-${scheme}.png`) as `${string}.png` });
    } finally {
      await rendered.close();
    }
  }, 60_000);

  it('loads nothing from the network', () => {
    expect(refused).toEqual([]);
  });

  it('fits the table in the comment box: no scrolling, the last column inside', () => {
    expect(measured.boxRight).toBeLessThanOrEqual(16 + COMMENT_WIDTH + 0.5);
    expect(measured.table.scrollWidth).toBeLessThanOrEqual(measured.table.clientWidth);
    expect(measured.table.right).toBeLessThanOrEqual(measured.contentRight + 0.5);
    expect(measured.headers.map((h) => h.text)).toEqual([
      'Status',
      'Pair / call site',
      'Base allocs/frees',
      'PR allocs/frees',
      'Leaked/cycle base → PR',
      'Change',
    ]);
    for (const h of measured.headers) expect(h.right, h.text).toBeLessThanOrEqual(measured.contentRight + 0.5);
  });

  it("shows every row's status", () => {
    expect(measured.statuses.map((s) => s.text)).toEqual(['❌ new leak', '❌ new leak', '✅ balanced']);
    for (const s of measured.statuses) {
      expect(s.visible, s.text).toBe(true);
      expect(s.right).toBeLessThanOrEqual(measured.contentRight);
    }
  });

  it('draws two lines, base and PR, in different colours that stand out from the chart background', () => {
    expect(measured.lines.map((l) => l.stroke.toLowerCase())).toEqual([LINE_COLOURS.base, LINE_COLOURS.pr]);
    for (const l of measured.lines) {
      expect(l.points).toBe(3);
      expect(l.width).toBeGreaterThanOrEqual(2);
      expect(contrast(l.rgb, measured.background), `${l.stroke} on ${measured.background}`).toBeGreaterThanOrEqual(3);
    }
  });

  it('shows the reproduce commands inside the comment box, the run line scrolling within its code box', () => {
    expect(measured.reproduce.commands).toContain('git clone https://github.com/nic-lab/kni-driver.git && cd kni-driver');
    expect(measured.reproduce.commands).toContain('sudo npx --yes github:nic-lab/alloc-balance#v1 run --base 9f2c1e0b7d4a');
    expect(measured.reproduce.right).toBeLessThanOrEqual(measured.contentRight + 0.5);
    // A command line is never wrapped (copying it must give one line): longer ones scroll.
    expect(measured.reproduce.scrollWidth).toBeGreaterThanOrEqual(measured.reproduce.clientWidth);
  });

  it('groups the six leaked netdevs of one stack in one entry with its count, and gives bytes per cycle (? for kprobe pairs)', () => {
    expect(measured.objects).toHaveLength(1);
    expect(measured.objects[0]).toMatch(/^6 objects from igb_like_probe\+0x1a \(kni_like\.c:59\), cycles 1–3/);
    expect(measured.objects[0]).toContain('and 3 more');
    expect(measured.leakedCells[0]).toBe('0 → 2<br>? B');
  });

  it('puts integer ticks on the y axis, from 0', () => {
    expect(measured.yTicks.length).toBeGreaterThanOrEqual(3);
    for (const t of measured.yTicks) expect(t).toMatch(/^\d+$/);
    expect(Math.min(...measured.yTicks.map(Number))).toBe(0);
  });

  it('keeps the chart low (three points need no screenful) and every cycle label inside its panel', () => {
    expect(measured.chart.height).toBeLessThanOrEqual(300);
    expect(measured.xLabels.map((l) => l.text)).toEqual(['1', '2', '3']);
    for (const l of measured.xLabels) {
      expect(l.left, `cycle ${l.text}`).toBeGreaterThanOrEqual(measured.chart.left);
      expect(l.right, `cycle ${l.text}`).toBeLessThanOrEqual(measured.chart.right);
    }
  });
});
