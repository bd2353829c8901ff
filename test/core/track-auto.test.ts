// track: auto on recorded runs of demo/leak-shapes (the bundled pipeline in the VM, 6.1, 3 cycles):
// the pairs from the .ko's imports, read back through the whole analysis.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { autoTrack } from '../../src/core/allocator-families.js';
import { analyzeTraces } from '../../src/core/analyze-traces.js';
import type { PairSpec } from '../../src/core/model.js';
import { recorded } from '../support/trace-fixtures.js';

function imports(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((n) => n !== '');
}

async function analyzeRecorded(name: string) {
  const r = recorded(name, 'leak_shapes');
  const status = JSON.parse(readFileSync(r.file('status.json'), 'utf8'));
  const track = status.tracing.track as PairSpec[];
  const analysis = await analyzeTraces({
    traces: [r.file('trace.txt')],
    pairs: track,
    stats: r.stats,
    kprobeProfile: r.file('kprobe-profile.txt'),
    moduleMap: r.map,
  });
  return { r, status, track, analysis };
}

describe('track: auto, recorded', () => {
  test('every family balanced (kfree_rcu, vmalloc, pages, ioremap, irq): complete, 0 leaked per cycle on each pair', async () => {
    const { r, track, analysis } = await analyzeRecorded('shapes-every-family-balanced');
    expect(autoTrack(imports(readFileSync(r.file('leak_shapes.imports'), 'utf8'))).pairs.map((p) => `${p.alloc}:${p.free}`)).toEqual(
      track.map((p) => `${p.alloc}:${p.free}`),
    );
    expect(analysis.complete, analysis.problems.join('\n')).toBe(true);
    expect(analysis.lostEvents).toBe(0);
    const byPair = Object.fromEntries(analysis.pairs.map((p) => [`${p.alloc}:${p.free}`, p]));
    expect(Object.keys(byPair)).toEqual(['kmalloc:kfree', 'vzalloc:vfree', '__get_free_pages:free_pages', 'ioremap:iounmap', 'request_threaded_irq:free_irq']);
    for (const p of analysis.pairs) {
      expect(p.leakedPerCycle, `${p.alloc}:${p.free}`).toBe(0);
      expect(p.module.allocs, `${p.alloc}:${p.free}`).toBe(p.module.frees);
    }
    expect(byPair['kmalloc:kfree'].method).toBe('kmem');
    expect(byPair['request_threaded_irq:free_irq'].method).toBe('function');
    for (const name of ['vzalloc:vfree', '__get_free_pages:free_pages', 'ioremap:iounmap']) {
      expect(byPair[name].method).toBe('kprobe');
      expect(byPair[name].module.allocs, name).toBe(3);
      // Frees of the whole kernel's areas and pages reach the probes; only the module's count.
      expect(byPair[name].unmatchedFrees).toBe(0);
      expect(byPair[name].callers.filter((c) => c.inModule === true).map((c) => c.caller.split('+')[0])).toEqual(['leak_shapes_open']);
    }
  });

  test("a module's own kmem_cache with kmem_cache_free forgotten: 1 per cycle at shape_take_item, by the kmem tracepoints", async () => {
    const { analysis } = await analyzeRecorded('shapes-kmem-cache-leak');
    expect(analysis.complete, analysis.problems.join('\n')).toBe(true);
    const slab = analysis.pairs[0];
    expect(`${slab.alloc}:${slab.free}`).toBe('kmalloc:kfree');
    expect(slab.leakedPerCycle).toBe(1);
    const site = slab.callers.find((c) => c.caller.startsWith('shape_take_item+'));
    expect(site).toMatchObject({ inModule: true, allocs: 3, frees: 0 });
    expect(site?.perCycle.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter)).toEqual([1, 2, 3]);
    expect(slab.callers.filter((c) => c.inModule === true && c !== site).every((c) => c.allocs === c.frees)).toBe(true);
  });
});

describe('track: auto on the imports of 5.10 and 6.12', () => {
  // `nm -u` of demo/leak-shapes built with every shape against Debian's 5.10.0-46 and 6.12.118+deb12 headers.
  const families = (file: string) => autoTrack(imports(readFileSync(`test/data/${file}`, 'utf8'))).pairs.map((p) => [p.alloc, ...(p.moreAllocs ?? [])]);

  test("5.10's kmem_cache_alloc_trace is kmalloc; its page and vmalloc allocators keep their names", () => {
    expect(families('leak-shapes-all-5.10.imports.txt')).toEqual([
      ['kmalloc', 'kmem_cache_alloc', 'kasprintf'],
      ['vzalloc'],
      ['__get_free_pages'],
      ['ioremap'],
      ['request_threaded_irq'],
    ]);
  });

  test("6.12's _noprof allocators: __kmalloc_cache_noprof is kmalloc, vzalloc_noprof and get_free_pages_noprof are probed by their own name", () => {
    expect(families('leak-shapes-all-6.12.imports.txt')).toEqual([
      ['kmalloc', 'kmem_cache_alloc', 'kasprintf'],
      ['vzalloc_noprof'],
      ['get_free_pages_noprof'],
      ['ioremap'],
      ['request_threaded_irq'],
    ]);
  });
});
