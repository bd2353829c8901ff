// Recorded runs on the kernels around the default 6.1 (test/data/recorded/README.md): the trace
// formats of 5.10 and 6.12 read through the whole analysis.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { autoTrack } from '../../src/core/allocator-families.js';
import { analyzeTraces } from '../../src/core/analyze-traces.js';
import type { PairSpec } from '../../src/core/model.js';
import { NETDEV, recorded } from '../support/trace-fixtures.js';

/** A recorded run of demo/leak-shapes with every shape, balanced (kfree_rcu), as scripts/accuracy.mjs case 14 ran it. */
async function everyFamily(name: string) {
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
  const imports = readFileSync(r.file('leak_shapes.imports'), 'utf8').split('\n').filter(Boolean);
  return { r, status, track, analysis, imports };
}

describe.each([
  [
    '5.10',
    'shapes-every-family-balanced-5.10',
    ['kmalloc:kfree', 'vzalloc:vfree', '__get_free_pages:free_pages', 'ioremap:iounmap', 'request_threaded_irq:free_irq'],
  ],
  // 6.12: kvfree_call_rcu(head, object); the probed allocators are the _noprof functions a module calls.
  [
    '6.12',
    'shapes-every-family-balanced-6.12',
    ['kmalloc:kfree', 'vzalloc_noprof:vfree', 'get_free_pages_noprof:free_pages', 'ioremap:iounmap', 'request_threaded_irq:free_irq'],
  ],
])('Linux %s: every allocator family, balanced, kfree_rcu', (_kernel, name, pairs) => {
  test('track auto from the imports; each pair complete and balanced, the probed ones at leak_shapes_open', async () => {
    const { track, analysis, imports, status } = await everyFamily(name);
    expect(autoTrack(imports).pairs.map((p) => `${p.alloc}:${p.free}`)).toEqual(pairs);
    expect(track.map((p) => `${p.alloc}:${p.free}`)).toEqual(pairs);
    expect(status.notes).toContain('kvfree_call_rcu traced: an object given to kfree_rcu() counts as released when it is queued');
    expect(analysis.complete, analysis.problems.join('\n')).toBe(true);
    expect(analysis.lostEvents).toBe(0);
    for (const p of analysis.pairs) {
      expect(p.leakedPerCycle, `${p.alloc}:${p.free}`).toBe(0);
      expect(p.module.allocs, `${p.alloc}:${p.free}`).toBe(p.module.frees);
    }
    const byPair = Object.fromEntries(analysis.pairs.map((p) => [`${p.alloc}:${p.free}`, p]));
    // 3 cycles of the open: its kzalloc'ed context (freed by kfree_rcu), kstrdup and kasprintf each.
    expect(byPair['kmalloc:kfree'].module.allocs).toBeGreaterThanOrEqual(9);
    for (const pair of pairs.slice(1, 4)) {
      expect(byPair[pair].method).toBe('kprobe');
      expect(byPair[pair].module.allocs, pair).toBe(3);
      expect(byPair[pair].unmatchedFrees).toBe(0);
      expect(byPair[pair].callers.filter((c) => c.inModule === true).map((c) => c.caller.split('+')[0])).toEqual(['leak_shapes_open']);
    }
    expect(byPair[pairs[4]].method).toBe('function');
  });
});

describe('Linux 5.10: the demo, kni_like with lad_dev never freed, 3 cycles', () => {
  const run = recorded('kni-like-leaky-5.10');

  test('4-character flags and sym-addr frames are read; 2 netdevs leak per cycle at igb_like_probe', async () => {
    const text = readFileSync(run.file('trace.txt'), 'utf8');
    expect(text).toMatch(/ \[00\d\] \.\.\.\. {5}\d+\.\d+: alloc_netdev_mqs </);
    const a = await analyzeTraces({ traces: [run.file('trace.txt')], pairs: [NETDEV], stats: run.stats, moduleMap: run.map });
    expect(a.complete).toBe(true);
    expect(a.problems).toEqual([]);
    const p = a.pairs[0];
    expect(p.callers.map((c) => [c.caller.replace(/\+.*/, ''), c.allocs, c.frees])).toEqual([
      ['igb_like_probe', 6, 0],
      ['kni_like_ioctl_create', 6, 6],
    ]);
    expect(p.leakedPerCycle).toBe(2);
    expect((p.moduleCycles ?? []).filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter)).toEqual([2, 4, 6]);
  });
});
