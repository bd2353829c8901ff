// Memory kernel APIs allocate for the module: the apiwatch helper's snapshots (after load,
// after each cycle, after unload) read into pairs per allocating kernel function, at the module's
// call sites, judged by the leak rule.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiMemoryPairs, apiMemoryProblems, parseApiWatch } from '../../src/core/api-memory.js';
import { compare } from '../../src/verdict/traces.js';
import type { AnalysisResult, PairResult } from '../../src/core/model.js';
import { ModuleMap } from '../../src/core/module-map.js';

const data = (f: string) => readFileSync(join(import.meta.dirname, '..', 'data', f), 'utf8');
const map = new ModuleMap('leaky', data('leaky.nm.txt'), JSON.parse(data('leaky.sections.json')));
// leaky_create is at .text+0x100: a return address 0x40 into it.
const OPEN = 'ffffffffc0203140';
const PROBE = 'ffffffffc0203290';

/** A snapshot as the helper prints it: sites with cumulative counts, then the objects it holds. */
function snap(sites: [string, string, string, number, number][], objects: [string, string, string][], overflow = 0): string {
  return [
    `overflow ${overflow}`,
    ...sites.map(([site, kind, fn, a, f]) => `site ${site} ${kind} allocs ${a} frees ${f} ${fn}`),
    ...objects.map(([addr, site, fn]) => `object ${addr} ${site} 0 ${fn}`),
  ].join('\n');
}

describe('parseApiWatch', () => {
  it('reads overflow, sites and objects, a module symbol with its [module] suffix', () => {
    const s = parseApiWatch(
      'overflow 2\nsite ffffffffc0203140 cache allocs 3 frees 1 __alloc_skb\nsite ffffffffc0203140 kmalloc allocs 1 frees 0 some_fn [other]\nobject ffff888004a1b000 ffffffffc0203140 256 __alloc_skb\n',
    );
    expect(s).toEqual({
      overflow: 2,
      sites: [
        { site: OPEN, kind: 'cache', allocs: 3, frees: 1, fn: '__alloc_skb' },
        { site: OPEN, kind: 'kmalloc', allocs: 1, frees: 0, fn: 'some_fn' },
      ],
      objects: [{ address: 'ffff888004a1b000', site: OPEN, bytes: 256, fn: '__alloc_skb' }],
    });
  });

  it('refuses a line it does not know, naming it', () => {
    expect(() => parseApiWatch('overflow 0\nsite what\n')).toThrow('not a line of the apiwatch helper: "site what"');
  });
});

describe('apiMemoryPairs', () => {
  it('an sk_buff per cycle never freed: one pair, the module call site, 2 objects a cycle, left after unload', () => {
    const afterLoad = parseApiWatch(snap([], []));
    const afterCycles = [1, 2, 3].map((n) =>
      parseApiWatch(
        snap(
          [
            [OPEN, 'cache', '__alloc_skb', n, 0],
            [OPEN, 'kmalloc', '__alloc_skb', n, 0],
          ],
          Array.from({ length: n }, (_, i) => [
            [`ffff8880040${i}0000`, OPEN, '__alloc_skb'],
            [`ffff8880050${i}0000`, OPEN, '__alloc_skb'],
          ]).flat() as [string, string, string][],
        ),
      ),
    );
    const [p] = apiMemoryPairs({ afterLoad, afterCycles, end: afterCycles[2] }, map);
    expect(p.alloc).toBe('__alloc_skb');
    expect(p.free).toBe('kfree/kmem_cache_free');
    expect(p.viaApi).toBe(true);
    expect(p.module).toEqual({ allocs: 6, frees: 0, outstanding: 6 });
    expect(p.cycles.map((c) => [c.cycle, c.allocs, c.outstandingAfter])).toEqual([
      [0, 0, 0],
      [1, 2, 2],
      [2, 2, 4],
      [3, 2, 6],
    ]);
    expect(p.leakedPerCycle).toBe(2);
    expect(p.growth?.shape).toBe('growing');
    expect(p.callers).toHaveLength(1);
    expect(p.callers[0]).toMatchObject({ caller: 'leaky_create+0x40', inModule: true, outstanding: 6 });
    expect(p.objects).toHaveLength(6);
    expect(p.objects[0]).toMatchObject({ caller: 'leaky_create+0x40', cycle: 1, stack: ['__alloc_skb (kernel API)', 'leaky_create+0x40'] });
  });

  it('a device made and removed every cycle: balanced, nothing outstanding', () => {
    const afterLoad = parseApiWatch(snap([[PROBE, 'kmalloc', 'platform_device_alloc', 0, 0]], []));
    const afterCycles = [1, 2, 3].map((n) => parseApiWatch(snap([[OPEN, 'kmalloc', 'platform_device_alloc', n, n]], [])));
    const [p] = apiMemoryPairs({ afterLoad, afterCycles, end: afterCycles[2] }, map);
    expect(p.module.outstanding).toBe(0);
    expect(p.leakedPerCycle).toBe(0);
    expect(p.objects).toEqual([]);
  });

  it('what init allocated and unload did not free is left after unload, at the init call site', () => {
    const INIT = 'ffffffffc020a010';
    const held = snap([[INIT, 'cache', 'kmem_cache_create_usercopy', 1, 0]], [['ffff888006000000', INIT, 'kmem_cache_create_usercopy']]);
    const afterCycles = [1, 2, 3].map(() => parseApiWatch(held));
    const [p] = apiMemoryPairs({ afterLoad: parseApiWatch(held), afterCycles, end: parseApiWatch(held) }, map);
    expect(p.module.outstanding).toBe(1);
    expect(p.leakedPerCycle).toBe(0);
    expect(p.objects[0]).toMatchObject({ cycle: 0, inModule: true });
    expect(p.objects[0].caller).toMatch(/^leaky_init\+0x10$|^init_module\+0x10$/);
  });

  it('a full table is said: the counts are a floor', () => {
    const s = parseApiWatch(snap([], [], 5));
    expect(apiMemoryProblems({ afterLoad: s, afterCycles: [s] })).toEqual([
      "memory from kernel APIs: 5 objects were not remembered (the helper's table was full): the counts are a floor",
    ]);
    expect(apiMemoryProblems({ afterLoad: parseApiWatch(snap([], [])), afterCycles: [] })).toEqual([]);
  });
});

describe('apiMemoryPairs and the traced families', () => {
  it('objects made inside an allocator a traced family names (alloc_netdev_mqs, kvmalloc_node) are left to that family', () => {
    const held = parseApiWatch(
      snap(
        [
          [OPEN, 'kmalloc', 'alloc_netdev_mqs', 1, 0],
          [OPEN, 'kmalloc', 'kvmalloc_node', 1, 0],
          [OPEN, 'cache', 'kobject_create_and_add', 1, 0],
        ],
        [['ffff888007000000', OPEN, 'kobject_create_and_add']],
      ),
    );
    const pairs = apiMemoryPairs({ afterLoad: held, afterCycles: [held, held] }, map);
    expect(pairs.map((p) => p.alloc)).toEqual(['kobject_create_and_add']);
  });
});

describe('apiMemoryPairs with named pairs', () => {
  it("counts only the allocators the track leaves out, as traced, at the module's own call sites", () => {
    const ITEM = 'ffffffffc0203210';
    const held = (n: number) =>
      parseApiWatch(
        snap(
          [
            [ITEM, 'cache', 'kmem_cache_alloc', n, 0],
            [OPEN, 'kmalloc', 'kmalloc_trace', n, n],
            [OPEN, 'cache', '__alloc_skb', n, 0],
          ],
          Array.from({ length: n }, (_, i) => [`ffff88800800${i}000`, ITEM, 'kmem_cache_alloc'] as [string, string, string]),
        ),
      );
    const pairs = apiMemoryPairs({ afterLoad: held(0), afterCycles: [held(1), held(2), held(3)] }, map, new Set(['kmem_cache_alloc']));
    expect(pairs.map((p) => `${p.alloc}:${p.free}`)).toEqual(['kmem_cache_alloc:kmem_cache_free']);
    expect(pairs[0]).toMatchObject({ untracked: true, leakedPerCycle: 1 });
    expect(pairs[0].viaApi).toBeUndefined();
    expect(pairs[0].callers[0].caller).toMatch(/^leaky_create_port\+0x10$/);
  });
});

describe('a row one side lacks', () => {
  it('is found, not asked for: a side that never called the function has no such row, and that is no unmeasured pair', () => {
    const held = parseApiWatch(snap([[OPEN, 'kmalloc', 'platform_device_unregister', 1, 1]], []));
    const [p] = apiMemoryPairs({ afterLoad: held, afterCycles: [held, held] }, map);
    expect(p.auto).toBe(true);
    const side = (pairs: PairResult[]): AnalysisResult => ({ complete: true, lostEvents: 0, cycles: 2, pairs, problems: [] });
    expect(compare(side([p]), side([])).verdict).toBe('pass');
  });
});
