import { describe, expect, it } from 'vitest';
import { compare } from '../../src/core/compare.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderAnalysisText, renderText } from '../../src/report/text.js';
import type { AnalysisResult } from '../../src/core/model.js';
import { analyzeText, fixture, NETDEV } from '../core/helpers.js';

const before = () => analyzeText(fixture('case-rte-kni-before-fix.trace'), { pairs: [NETDEV] });
const after = () => analyzeText(fixture('case-rte-kni-after-fix.trace'), { pairs: [NETDEV] });

const CASE_MARKDOWN = `### alloc-balance

**❌ fail: PR leaks 2 objects/cycle on alloc_netdev_mqs:free_netdev (base 0)**

| Pair / call site | Base allocs | Base frees | Base leaked/cycle | PR allocs | PR frees | PR leaked/cycle | Change | Status |
|:--|--:|--:|--:|--:|--:|--:|--:|:--|
| **alloc_netdev_mqs:free_netdev** (module) | 4 | 4 | 0 | 4 | 2 | 2 | +2 | ❌ new leak |
| &nbsp;&nbsp;\`alloc_etherdev_mqs\` | 2 | 0 | · | 2 | 0 | · | · | · |
| &nbsp;&nbsp;\`kni_ioctl_create\` | 2 | 0 | · | 2 | 0 | · | · | · |
| &nbsp;&nbsp;\`kni_dev_remove\` | 0 | 4 | · | 0 | 2 | · | · | · |

<sub>base: 1 cycle · PR: 1 cycle · fail-on: new-leak</sub>

<details><summary>Reasons and problems</summary>

- alloc_netdev_mqs:free_netdev: PR leaks 2 objects/cycle (base 0)

</details>
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
  module call sites                   4      2            2
  leaked per cycle (module): 2
`;

/** Three cycles, address pairing, `perCycle` objects leaked each cycle at leaky_create_port. */
function cycles(perCycle: number, extraCallers = 0): AnalysisResult {
  const lines: string[] = [];
  let ts = 1;
  let addr = 0x10000;
  const l = (body: string) => lines.push(`          leakyd-121     [000] .....  ${(ts++).toFixed(6)}: ${body}`);
  for (let c = 1; c <= 3; c++) {
    l(`tracing_mark_write: alloc-balance cycle=${c} start`);
    for (let k = 0; k < perCycle; k++) l(`a0: (leaky_create_port+0x40/0x80 [leaky] <- alloc_netdev_mqs) ret=0xffff8880${(addr++).toString(16).padStart(8, '0')}`);
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

  it('draws outstanding objects after each cycle as a Mermaid xychart, base then PR', () => {
    const md = renderMarkdown(compare(cycles(0), cycles(1)), { base: cycles(0), pr: cycles(1) });
    expect(md).toContain(
      [
        '```mermaid',
        'xychart-beta',
        '    title "alloc_netdev_mqs:free_netdev: outstanding after each cycle"',
        '    x-axis "cycle" [1, 2, 3]',
        '    y-axis "objects" 0 --> 3',
        '    line [0, 0, 0]',
        '    line [1, 2, 3]',
        '```',
      ].join('\n'),
    );
    expect(md).toContain('<details><summary>Outstanding objects (PR)</summary>');
    expect(md).toContain('- `0xffff888000010000` from `leaky_create_port+0x40`, cycle 1');
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
});
