import { describe, expect, it } from 'vitest';
import { compare } from '../../src/verdict/traces.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderAnalysisText, renderText } from '../../src/report/terminal.js';
import type { AnalysisResult } from '../../src/core/model.js';
import { analyzeText, fixture, NETDEV } from '../support/trace-fixtures.js';
import { yRange } from '../../src/report/chart.js';
import { sourceUrl } from '../../src/report/source-links.js';
import { HEAD_REPO, HEAD_SHA, recordedReport } from '../support/recorded-report.js';

const before = () => analyzeText(fixture('case-rte-kni-before-fix.trace'), { pairs: [NETDEV] });
const after = () => analyzeText(fixture('case-rte-kni-after-fix.trace'), { pairs: [NETDEV] });

const CASE_MARKDOWN = `### alloc-balance

**❌ fail: PR leaks 2 objects/cycle on alloc_netdev_mqs:free_netdev (base 0)**

| Status | Pair / call site | Base allocs/frees | PR allocs/frees | Leaked/cycle base → PR | Change |
|:--|:--|--:|--:|--:|--:|
| ❌ new leak | **alloc_netdev_mqs:free_netdev** (module) | 4/4 | 4/2 | 0 → 2<br>? B | +2 |
| · | &nbsp;&nbsp;\`alloc_etherdev_mqs\` | 2/0 | 2/0 | · | · |
| · | &nbsp;&nbsp;\`kni_ioctl_create\` | 2/0 | 2/0 | · | · |
| · | &nbsp;&nbsp;\`kni_dev_remove\` | 0/4 | 0/2 | · | · |

<sub>(module): the pair over all the module's call sites, the row the verdict reads; the rows under it are its call sites<br>bytes per cycle: the sizes the kmem events give; ? where the trace has none (kprobe pairs)<br>base: 1 cycle · PR: 1 cycle · fail-on: new-leak</sub>
`;

const CASE_TEXT = `❌ fail: PR leaks 2 objects/cycle on alloc_netdev_mqs:free_netdev (base 0)

pair / call site              base allocs  frees  leaked/cycle  PR allocs  frees  leaked/cycle  change  status
alloc_netdev_mqs:free_netdev            4      4             0          4      2             2      +2  ❌ new leak
  alloc_etherdev_mqs                    2      0             .          2      0             .       .  ·
  kni_ioctl_create                      2      0             .          2      0             .       .  ·
  kni_dev_remove                        0      4             .          0      2             .       .  ·

base: 1 cycle(s) · PR: 1 cycle(s) · fail-on: new-leak

- alloc_netdev_mqs:free_netdev: PR leaks 2 objects/cycle (base 0)
`;

const CASE_ANALYSIS = `1 cycle, trace complete

alloc_netdev_mqs:free_netdev (function tracer: calls counted)
  call site           in module  allocs  frees  outstanding
  alloc_etherdev_mqs  ?               2      0            2
  kni_ioctl_create    ?               2      0            2
  kni_dev_remove      ?               0      2           -2
  all call sites                      4      2            2
  module call sites: unknown (give --module NAME with --nm/--sections)
  leaked per cycle (all call sites): 2
`;

/** Three cycles, address pairing, `perCycle` objects leaked each cycle at leaky_create_port. */
function cycles(perCycle: number, extraCallers = 0): AnalysisResult {
  const lines: string[] = [];
  let ts = 1;
  let addr = 0x10000;
  const l = (body: string) => lines.push(`          leakyd-121     [000] .....  ${(ts++).toFixed(6)}: ${body}`);
  for (let c = 1; c <= 3; c++) {
    l(`tracing_mark_write: alloc-balance cycle=${c} start`);
    for (let k = 0; k < perCycle; k++)
      l(`a0: (leaky_create_port+0x40/0x80 [leaky] <- alloc_netdev_mqs) ret=0xffff8880${(addr++).toString(16).padStart(8, '0')}`);
    for (let k = 0; k < extraCallers; k++) {
      const a = `0xffff8880${(addr++).toString(16).padStart(8, '0')}`;
      l(`a0: (leaky_helper_${k}+0x10/0x80 [leaky] <- alloc_netdev_mqs) ret=${a}`);
      l(`f0: (free_netdev+0x0/0x1e0) dev=${a}`);
    }
    l(`tracing_mark_write: alloc-balance cycle=${c} end`);
  }
  return analyzeText(lines.join('\n'), { pairs: [NETDEV] });
}

describe('markdown', () => {
  it('renders the case exactly', () => {
    expect(renderMarkdown(compare(after(), before()), { base: after(), pr: before() })).toBe(CASE_MARKDOWN);
  });

  it('draws outstanding objects after each cycle as a Mermaid xychart: base blue, PR orange, named in the title, integer ticks', async () => {
    const report = await recordedReport();
    const md = renderMarkdown(report.comparison, { base: report.base.analysis, pr: report.pr.analysis });
    expect(md).toContain(
      [
        '```mermaid',
        '%%{init: {"xyChart":{"width":700,"height":280},"themeVariables":{"xyChart":{"plotColorPalette":"transparent, #2f81f7, #e16f24"}}}}%%',
        'xychart-beta',
        '    title "alloc_netdev_mqs:free_netdev: base (blue) vs PR (orange)"',
        '    x-axis "cycle" [1, 2, 3]',
        '    y-axis "outstanding objects" 0 --> 10',
        '    bar [0, 0, 0]',
        '    line [0, 0, 0]',
        '    line [2, 4, 6]',
        '```',
      ].join('\n'),
    );
    expect(md).toContain('<details><summary>Outstanding objects (PR)</summary>');
    // The six leaked netdevs share one stack: one entry with its count, three addresses shown.
    expect(md).toContain(
      '- **6 objects** from `igb_like_probe+0x1a` (kni_like.c:59), cycles 1–3<br>stack: `igb_like_probe+0x1a ← kni_like_ioctl_create+0x6f ← ',
    );
    expect(md).toContain('<br>at `0xffff88800bc2b000`, `0xffff88800bc2d000`, `0xffff888005269000` and 3 more');
    expect(md.match(/from `igb_like_probe/g)).toHaveLength(1);
  });

  it('spans at least ten objects on the y axis (d3 ticks at integers), from 0 or the lowest value below it', () => {
    expect(yRange([0, 0, 0, 2, 4, 6])).toEqual([0, 10]);
    expect(yRange([0, 5, 10, 15, 20, 25])).toEqual([0, 25]);
    expect(yRange([-2, 0, 1])).toEqual([-2, 8]);
  });

  it('links call sites to the PR head on GitHub when the repository is known; the table stays six columns', async () => {
    const report = await recordedReport();
    const source = { serverUrl: 'https://github.com', repo: HEAD_REPO, sha: HEAD_SHA };
    const md = renderMarkdown(report.comparison, { base: report.base.analysis, pr: report.pr.analysis, source });
    expect(md).toContain(
      `| ❌ new leak | &nbsp;&nbsp;\`igb_like_probe\` ` +
        `[kni_like.c:59](https://github.com/eve-contrib/kni-driver/blob/${HEAD_SHA}/kni_like.c#L59) | 6/6 | 6/0 | 0 → 2 | +2 |`,
    );
    expect(md).toContain(
      `| ✅ balanced | &nbsp;&nbsp;\`kni_like_ioctl_create\` ` +
        `[kni_like.c:80](https://github.com/eve-contrib/kni-driver/blob/${HEAD_SHA}/kni_like.c#L80) | 6/6 | 6/6 | 0 → 0 | 0 |`,
    );
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) expect(line.replace(/\\\|/g, '').split(' | ')).toHaveLength(6);
    const unlinked = renderMarkdown(report.comparison, { base: report.base.analysis, pr: report.pr.analysis });
    expect(unlinked).toContain('| ❌ new leak | &nbsp;&nbsp;`igb_like_probe` kni_like.c:59 | 6/6 | 6/0 | 0 → 2 | +2 |');
    expect(unlinked).not.toContain('https://');
  });

  it('links a path inside the repository, never one outside it', () => {
    const ref = { serverUrl: 'https://ghe.example.com/', repo: 'nic-lab/kni-driver', sha: HEAD_SHA };
    expect(sourceUrl('kernel/linux/kni/kni_misc.c:412', ref)).toBe(
      `https://ghe.example.com/nic-lab/kni-driver/blob/${HEAD_SHA}/kernel/linux/kni/kni_misc.c#L412`,
    );
    expect(sourceUrl('./my driver/kni_like.c:59', ref)).toBe(`https://ghe.example.com/nic-lab/kni-driver/blob/${HEAD_SHA}/my%20driver/kni_like.c#L59`);
    expect(sourceUrl('/usr/src/linux-headers-6.1.0-56-common/include/linux/netdevice.h:2590', ref)).toBeNull();
    expect(sourceUrl('../outside.c:3', ref)).toBeNull();
    expect(sourceUrl('kni_like.c', ref)).toBeNull();
  });

  it('stays under the limit: details go first, then call-site rows, never the verdict', () => {
    const base = cycles(0, 300);
    const pr = cycles(2, 300);
    const c = compare(base, pr);
    const full = renderMarkdown(c, { base, pr });
    expect(full.length).toBeGreaterThan(20_000);
    expect(full).not.toContain('✂️');

    const noDetails = renderMarkdown(c, { base, pr, limit: full.length - 1 });
    expect(noDetails.length).toBeLessThanOrEqual(full.length - 1);
    expect(noDetails).toContain('**❌ fail: PR leaks 2 objects/cycle at leaky_create_port (base 0)**');
    expect(noDetails).toMatch(/> ✂️ Cut to fit [\d,]+ characters: \d+ detail sections? left out\. The JSON report holds everything\./);

    const small = renderMarkdown(c, { base, pr, limit: 5_000 });
    expect(small.length).toBeLessThanOrEqual(5_000);
    expect(small).toContain('**❌ fail: PR leaks 2 objects/cycle at leaky_create_port (base 0)**');
    expect(small).toContain('| **alloc_netdev_mqs:free_netdev** (module) |');
    expect(small).toMatch(/> ✂️ Cut to fit 5,000 characters: \d+ call-site rows and \d+ detail sections left out/);

    const tiny = renderMarkdown(c, { base, pr, limit: 300 });
    expect(tiny.length).toBeLessThanOrEqual(300);
    expect(tiny.startsWith('**❌ fail: PR leaks 2 objects/cycle at leaky_create_port (base 0)**')).toBe(true);
  });
});

describe('text', () => {
  it('renders the comparison of the case exactly', () => {
    expect(renderText(compare(after(), before()))).toBe(CASE_TEXT);
  });

  it('renders one analysis exactly', () => {
    expect(renderAnalysisText(before())).toBe(CASE_ANALYSIS);
  });

  it('shows the module call sites only when call sites were attributed to the module', () => {
    const a = before();
    a.pairs[0].callers[1].inModule = true;
    a.pairs[0].callers[0].inModule = false;
    const text = renderAnalysisText(a);
    expect(text).toMatch(/\n {2}module call sites {2,}\d/);
    expect(text).toContain('  leaked per cycle (module): ');
    expect(text).not.toContain('unknown (give --module');
  });
});
