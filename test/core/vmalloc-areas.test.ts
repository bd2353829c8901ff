// The vmallocinfo witness: the module's vmalloc areas and I/O mappings in each snapshot (after load,
// after each cycle, after unload) read into one pair per family a named track leaves out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnalysisResult, PairResult } from '../../src/core/model.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { compare } from '../../src/verdict/traces.js';
import { moduleAreaLines, parseVmallocinfo, vmallocAreaPairs, vmallocWitnessed } from '../../src/core/vmalloc-areas.js';

const data = (f: string) => readFileSync(join(import.meta.dirname, '..', 'data', f), 'utf8');
const map = new ModuleMap('leaky', data('leaky.nm.txt'), JSON.parse(data('leaky.sections.json')));

/** Kernel areas as 6.1 prints them (`%7ld` pads the size), around which the module's come and go. */
const KERNEL = [
  '0xffffc90000000000-0xffffc90000005000   20480 irq_init_percpu_irqstack+0x129/0x170 pages=4 vmalloc N0=4',
  '0xffffc9000001d000-0xffffc9000001f000    8192 acpi_os_map_iomem+0x1c8/0x1f0 phys=0x00000000bffe0000 ioremap',
  '0xffffc90000200000-0xffffc90000202000    8192 unpurged vm_area',
];
/** A module area: `n` picks its range; `raw` prints its caller as after rmmod (a raw address). */
function area(n: number, opts: { raw?: boolean; ioremap?: boolean } = {}): string {
  const start = (0xffffc90000c00000n + BigInt(n) * 0x10000n).toString(16);
  const end = (0xffffc90000c00000n + BigInt(n) * 0x10000n + 0x5000n).toString(16);
  const caller = opts.raw ? '0xffffffffc0203140' : 'leaky_create+0x40/0x100 [leaky]';
  return `0x${start}-0x${end}   20480 ${caller} ${opts.ioremap ? 'phys=0x00000000fe000000 ioremap' : 'pages=4 vmalloc N0=4'}`;
}
const snapshot = (...lines: string[]) => [...KERNEL, ...lines].join('\n');

describe('parseVmallocinfo', () => {
  it('reads range, size, caller with its module and the flags; a line without caller has none', () => {
    const [vm, io, unpurged] = parseVmallocinfo(`${KERNEL.join('\n')}\n`);
    expect(vm).toMatchObject({ start: 'ffffc90000000000', bytes: 20480, caller: 'irq_init_percpu_irqstack+0x129/0x170', module: '', flags: ['vmalloc'] });
    expect(io.flags).toEqual(['ioremap']);
    expect(unpurged).toMatchObject({ caller: '', flags: ['unpurged', 'vm_area'] });
    expect(parseVmallocinfo(area(1))[0]).toMatchObject({ caller: 'leaky_create+0x40/0x100', module: 'leaky' });
  });
});

describe('moduleAreaLines', () => {
  it("keeps the module's areas, and after unload the ranges it had, whatever their caller prints as", () => {
    const seen = new Set<string>();
    expect(
      moduleAreaLines(snapshot(area(1), area(2)), 'leaky', seen)
        .trim()
        .split('\n'),
    ).toEqual([area(1), area(2)]);
    // After rmmod: area 1 left (raw caller), area 2 gone, area 3 a range never the module's.
    expect(moduleAreaLines(snapshot(area(1, { raw: true }), area(3, { raw: true })), 'leaky', seen)).toBe(`${area(1, { raw: true })}\n`);
    expect(moduleAreaLines(snapshot(), 'leaky', new Set())).toBe('');
  });
});

describe('vmallocAreaPairs', () => {
  it('a vzalloc area kept every cycle: vzalloc:vfree at the call site, 1 a cycle, the areas left after unload', () => {
    const [pair] = vmallocAreaPairs(
      {
        afterLoad: snapshot(),
        afterCycles: [snapshot(area(1)), snapshot(area(1), area(2)), snapshot(area(1), area(2), area(3))],
        end: snapshot(area(1, { raw: true }), area(2, { raw: true }), area(3, { raw: true })),
      },
      map,
      ['vzalloc'],
    );
    expect(pair).toMatchObject({
      alloc: 'vzalloc',
      free: 'vfree',
      method: 'vmallocinfo',
      auto: true,
      untracked: true,
      leakedPerCycle: 1,
      allocs: 3,
      frees: 0,
      outstanding: 3,
    });
    expect(pair.cycles.map((c) => c.outstandingAfter)).toEqual([0, 1, 2, 3]);
    expect(pair.callers).toEqual([expect.objectContaining({ caller: 'leaky_create+0x40', inModule: true, outstanding: 3 })]);
    expect(pair.objects.map((o) => [o.address, o.cycle, o.bytes])).toEqual([
      ['0xffffc90000c10000', 1, 20480],
      ['0xffffc90000c20000', 2, 20480],
      ['0xffffc90000c30000', 3, 20480],
    ]);
  });

  it('an area each cycle given back before the next, and one from load freed at unload: balanced', () => {
    const [pair] = vmallocAreaPairs(
      { afterLoad: snapshot(area(9)), afterCycles: [snapshot(area(9)), snapshot(area(9)), snapshot(area(9))], end: snapshot() },
      map,
      ['vzalloc', 'kmem_cache_alloc'],
    );
    expect(pair).toMatchObject({ leakedPerCycle: 0, outstanding: 0, allocs: 1, frees: 1 });
  });

  it('I/O mappings in their own row; kernel areas and families nobody left out give none', () => {
    const input = {
      afterLoad: snapshot(),
      afterCycles: [snapshot(area(1, { ioremap: true })), snapshot(area(1, { ioremap: true }), area(2, { ioremap: true }))],
    };
    expect(vmallocAreaPairs(input, map, ['ioremap']).map((p) => [p.alloc, p.free, p.leakedPerCycle])).toEqual([['ioremap', 'iounmap', 1]]);
    expect(vmallocAreaPairs(input, map, ['vzalloc']).map((p) => [p.alloc, p.outstanding])).toEqual([['vzalloc', 0]]);
    expect(vmallocAreaPairs(input, map, ['kmem_cache_alloc'])).toEqual([]);
  });
});

describe('a side whose areas never outlived a cycle', () => {
  it('has a row with nothing in it, which measures no leak and is no unmeasured pair', () => {
    const input = { afterLoad: snapshot(), afterCycles: [snapshot(), snapshot()], end: snapshot() };
    const [p] = vmallocAreaPairs(input, map, ['ioremap']);
    const side = (pairs: PairResult[]): AnalysisResult => ({ complete: true, lostEvents: 0, cycles: 2, pairs, problems: [] });
    const c = compare(side([p]), side([p]));
    expect(c.verdict).toBe('pass');
    expect(c.reasons.join('\n')).not.toMatch(/ioremap:iounmap/);
  });
});

describe('vmallocWitnessed', () => {
  it('the vmalloc and ioremap allocators, by any name they are traced by', () => {
    expect(vmallocWitnessed(['kmem_cache_alloc', 'vzalloc', 'vmalloc_noprof', 'ioremap_wc', '__get_free_pages'])).toEqual([
      'vzalloc',
      'vmalloc_noprof',
      'ioremap_wc',
    ]);
  });
});
