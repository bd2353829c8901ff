// Verdict-bearing details of the analysis on real runs (test/data/recorded): kmalloc tracking
// among the whole kernel's kmem events, lost buffer events and missed kretprobes, stacks without
// the tracer's own frames, and the slabinfo cross-check narrowed to the objects' caches.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeTraces } from '../../src/core/analyze-traces.js';
import { compare } from '../../src/verdict/traces.js';
import { leakedBytesPerCycle } from '../../src/core/leak-rate.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { deferredObject, isHashedPointer, weakPointerHash } from '../../src/core/trace-protocol.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { parseKprobeProfile } from '../../src/core/kprobe-profile.js';
import { commonAlignment, kmallocSize } from '../../src/core/slab-check.js';
import { kmallocCache } from '../../src/core/slab-caches.js';
import { isTracingFrame } from '../../src/core/frames.js';
import { UsageError } from '../../src/errors.js';
import { NETDEV, analyzeText, recorded } from '../support/trace-fixtures.js';
import { useTempDir } from '../support/temp-dir.js';

const KMEM = { alloc: 'kmalloc', free: 'kfree' };
const tmp = useTempDir('ab-trust-');

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('kmalloc:kfree on a real 6.1 run: rcu_free_stats=1, the stats blocks released by kvfree_rcu()', () => {
  const run = recorded('faults-kmem-rcu');
  const analyze = () => analyzeTraces({ traces: [run.file('trace.txt')], pairs: [KMEM], stats: run.stats, moduleMap: run.map });

  it('counts each block released when kvfree_call_rcu queues it: balanced, 0 per cycle', async () => {
    const text = readFileSync(run.file('trace.txt'), 'utf8');
    // The RCU worker frees in bulk, with no kmem:kfree event for the module's blocks.
    expect(text.split('\n').filter((l) => / rcu: \(kvfree_call_rcu\+0x0\//.test(l)).length).toBeGreaterThan(6);
    const a = await analyze();
    expect(a.complete).toBe(true);
    const p = a.pairs[0];
    expect(p.callers.map((c) => [c.caller, c.allocs, c.frees])).toEqual([
      ['kni_like_stats_create+0x1f', 6, 6],
      ['kni_like_open+0x20', 3, 3],
    ]);
    expect(p.module).toEqual({ allocs: 9, frees: 9, outstanding: 0 });
    expect(p.leakedPerCycle).toBe(0);
  });

  it('without the kvfree_call_rcu events the same run shows blocks still queued at the end as leaked', async () => {
    const text = readFileSync(run.file('trace.txt'), 'utf8');
    const stripped = write(
      'no-rcu.trace',
      text
        .split('\n')
        .filter((l) => !/ rcu: \(kvfree_call_rcu/.test(l))
        .join('\n'),
    );
    const p = (await analyzeTraces({ traces: [stripped], pairs: [KMEM], moduleMap: run.map })).pairs[0];
    // The RCU worker freed some blocks one by one (kmem:kfree) before the trace ended, not all.
    expect(p.module.outstanding).toBeGreaterThan(0);
  });
});

describe('deferredObject', () => {
  it('reads the object from kvfree_call_rcu(head, func) as 6.1 and as 6.3 and later pass it', () => {
    expect(deferredObject('head=0xffff8880057a4600 func=0x0')).toBe('0xffff8880057a4600');
    expect(deferredObject('head=0xffff8880057a4610 func=0x10')).toBe('0xffff8880057a4600');
    expect(deferredObject('head=0x0 func=0xffff888005123400')).toBe('0xffff888005123400');
    expect(deferredObject('head=0xffff8880057a4610 func=0xffff8880057a4600')).toBe('0xffff8880057a4600');
    expect(deferredObject('head=0x0 func=0x0')).toBe('');
    expect(deferredObject('ptr=0x1')).toBe('');
  });

  it('on a kernel before 5.12 (hashed trace pointers, debug_boot_weak_hash) matches the raw object to its printed hash', () => {
    // hash_long(0xffff8880057a4600, 32), as the kernel's hash_64_generic computes it.
    expect(weakPointerHash('0xffff8880057a4600')).toBe('0x77bff6c6');
    expect(isHashedPointer('0000000077bff6c6')).toBe(true);
    for (const raw of ['ffff8880057a4600', '0000000000000000', '0000000000000010', '0xffff8880057a4600']) expect(isHashedPointer(raw)).toBe(false);
    const trace = [
      '          insmod-90      [000] ....     5.100000: tracing_mark_write: alloc-balance cycle=1 start',
      '          cat-95      [000] ....     5.200000: kmalloc: call_site=kni_like_open+0x20/0x80 [kni_like] ptr=0000000077bff6c6 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL',
      '          cat-95      [000] ....     5.300000: rcu: (kvfree_call_rcu+0x0/0x3a0) head=0xffff8880057a4610 func=0x10',
      // kasprintf: its own kmalloc (a kernel call site), its return probe (raw), the module's kfree (hashed).
      '          cat-95      [000] ....     5.310000: kmalloc: call_site=kvasprintf+0x5a/0x90 ptr=00000000d1aab7fb bytes_req=12 bytes_alloc=16 gfp_flags=GFP_KERNEL',
      '          cat-95      [000] ....     5.320000: alloc_ret: (kni_like_open+0x40/0x80 [kni_like] <- kasprintf) ret=0xffff888005123400',
      '          cat-95      [000] ....     5.330000: kfree: call_site=kni_like_release+0x10/0x30 [kni_like] ptr=00000000d1aab7fb',
      '          insmod-90      [000] ....     5.400000: tracing_mark_write: alloc-balance cycle=1 end',
    ].join('\n');
    const p = analyzeText(trace, { pairs: [{ alloc: 'kmalloc', free: 'kfree', moreFrees: ['kvfree_call_rcu'] }], moduleMap: new ModuleMap('kni_like') })
      .pairs[0];
    expect(p.module).toEqual({ allocs: 1, frees: 1, outstanding: 0 });
  });
});

describe('kmalloc:kfree on a real 6.1 run: leak_stats=1, 3 cycles of 2 ports, thousands of kernel kmallocs', () => {
  const run = recorded('faults-kmem-leak');
  const analyze = () => analyzeTraces({ traces: [run.file('trace.txt')], pairs: [KMEM], stats: run.stats, slabinfo: run.slabinfo, moduleMap: run.map });

  it('tracks the module call sites only: 2 stats blocks leak per cycle at kni_like_stats_create, the file state is balanced', async () => {
    const a = await analyze();
    expect(a.complete).toBe(true);
    expect(a.problems).toEqual([]);
    const p = a.pairs[0];
    expect(p.method).toBe('kmem');
    expect(p.callers.map((c) => [c.caller, c.inModule, c.allocs, c.frees])).toEqual([
      ['kni_like_stats_create+0x1f', true, 6, 0],
      ['kni_like_open+0x20', true, 3, 3],
    ]);
    expect(p.module).toEqual({ allocs: 9, frees: 3, outstanding: 6 });
    expect(p.leakedPerCycle).toBe(2);
    expect((p.moduleCycles ?? []).filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter)).toEqual([2, 4, 6]);
    expect(p.objects.map((o) => o.caller)).toEqual(Array(6).fill('kni_like_stats_create+0x1f'));
  });

  it('gives each object its size from bytes_alloc: 2 blocks of 32 bytes leak per cycle, 64 bytes; the comment says so', async () => {
    const a = await analyze();
    const p = a.pairs[0];
    expect(p.objects.map((o) => o.bytes)).toEqual(Array(6).fill(32));
    expect(leakedBytesPerCycle(p)).toBe(64);
    const md = renderMarkdown(compare(a, a), { base: a, pr: a });
    expect(md).toContain('| **kmalloc:kfree** (module) | 9/3 | 9/3 | 2 → 2<br>64 B | 0 |');
    expect(md).toContain('- **6 objects** from `kni_like_stats_create+0x1f`');
    expect(md).toContain(', cycles 1–3, 192 B<br>');
  });

  it('every other kmalloc of the trace is left out, and no kfree counts as unmatched', async () => {
    const text = readFileSync(run.file('trace.txt'), 'utf8');
    const kmallocs = text.split('\n').filter((l) => / kmalloc: call_site=/.test(l)).length;
    const p = (await analyze()).pairs[0];
    expect(kmallocs).toBeGreaterThan(4000);
    expect(p.ignoredAllocs).toBe(kmallocs - 9);
    expect(p.unmatchedFrees).toBe(0);
    // kfree(NULL) prints ptr=0000000000000000 on 6.1: in the trace, never an object.
    expect(text).toMatch(/ kfree: call_site=\S+( \[\w+\])? ptr=0000000000000000$/m);
  });

  it('the slab cross-check names the caches of the module objects, from bytes_alloc', async () => {
    const a = await analyze();
    expect(a.pairs[0].caches).toEqual([
      { cache: 'kmalloc-64', allocs: 3, outstanding: 0 },
      { cache: 'kmalloc-32', allocs: 6, outstanding: 6 },
    ]);
    expect(a.slabCheck).toHaveLength(1);
    const check = a.slabCheck![0];
    expect(check.basis).toBe('cache');
    expect(check.caches.map((c) => c.cache)).toEqual(['kmalloc-32', 'kmalloc-64']);
    expect(check.text).toMatch(
      /^kmalloc:kfree: kmalloc-32: 6 objects of the module outstanding, active objects [+-]?\d+; kmalloc-64: 0 objects of the module outstanding/,
    );
    // The full delta is still there, and much longer.
    expect(a.slab!.length).toBeGreaterThan(10);
  });

  it('base and PR both leaking: any-leak fails at the stats call site, new-leak passes', async () => {
    const a = await analyze();
    const any = compare(a, a, 'any-leak');
    expect(any.verdict).toBe('fail');
    expect(any.headline).toBe('❌ fail: PR leaks 2 objects/cycle at kni_like_stats_create (base 2)');
    expect(compare(a, a, 'new-leak').verdict).toBe('pass');
  });
});

describe('a trace buffer too small for the run (real: trace-buffer-kb 64, 8 ports, kmalloc:kfree)', () => {
  const run = recorded('faults-lost');

  it('is incomplete, counts the lost events, advises raising trace-buffer-kb; the comparison is inconclusive', async () => {
    const a = await analyzeTraces({ traces: [run.file('trace.txt')], pairs: [KMEM], stats: run.stats, moduleMap: run.map });
    expect(a.complete).toBe(false);
    expect(a.lostEvents).toBe(16338 - 3470);
    expect(a.lostBy).toEqual({ buffer: 16338 - 3470, probes: 0 });
    expect(a.problems.join('\n')).toMatch(/overwrote 12868 events .*raise trace-buffer-kb/);
    for (const policy of ['new-leak', 'any-leak', 'never'] as const) {
      const c = compare(a, a, policy);
      expect(c.verdict).toBe('inconclusive');
      expect(c.headline).toBe(
        '⚠️ inconclusive: the PR trace lost 12868 events (the trace buffer overflowed: raise ' +
          'trace-buffer-kb); the base trace lost 12868 events (the trace buffer overflowed: raise ' +
          'trace-buffer-kb)',
      );
    }
  });
});

describe('kretprobe misses (kprobe_profile)', () => {
  const run = recorded('kni-like-leaky-3cycles');
  const analyze = (profile: string) =>
    analyzeTraces({ traces: [run.file('trace.txt')], pairs: [NETDEV], stats: run.stats, moduleMap: run.map, kprobeProfile: profile });

  it('the recorded profile, no misses: complete', async () => {
    const a = await analyze(run.file('kprobe-profile.txt'));
    expect(a.complete).toBe(true);
    expect(a.lostEvents).toBe(0);
    expect(a.lostBy).toBeUndefined();
  });

  it('misses on the return probe: lost events, incomplete, the problem says to raise maxactive', async () => {
    const profile = write('missed.txt', readFileSync(run.file('kprobe-profile.txt'), 'utf8').replace('a0 hits=12 misses=0', 'a0 hits=12 misses=3'));
    const a = await analyze(profile);
    expect(a.complete).toBe(false);
    expect(a.lostEvents).toBe(3);
    expect(a.lostBy).toEqual({ buffer: 0, probes: 3 });
    expect(a.problems).toEqual([
      'alloc_netdev_mqs:free_netdev: the return probe on alloc_netdev_mqs missed 3 of 15 hits ' +
        '(kprobe_profile): more calls were in flight at once than the probe has kretprobe instances ' +
        '(maxactive): raise maxactive; those allocations are not in the trace',
    ]);
    const c = compare(a, a);
    expect(c.verdict).toBe('inconclusive');
    expect(c.headline).toMatch(/the PR trace lost 3 events \(3 return probe hit\(s\) missed: too few kretprobe instances \(maxactive\)\)/);
  });

  it("reads the kernel's own kprobe_profile columns too", () => {
    expect(
      parseKprobeProfile('  a0                                                     12               2\n  f0  12  0\n  a1_2 3 1\n  other_probe 4 1\n'),
    ).toEqual([
      { event: 'a0', pair: 0, index: 0, role: 'alloc', hits: 12, misses: 2 },
      { event: 'f0', pair: 0, index: 0, role: 'free', hits: 12, misses: 0 },
      { event: 'a1_2', pair: 1, index: 2, role: 'alloc', hits: 3, misses: 1 },
      { event: 'other_probe', pair: -1, index: 0, role: 'other', hits: 4, misses: 1 },
    ]);
    expect(parseKprobeProfile('')).toEqual([]);
  });

  it('a file that is no kprobe_profile is a usage error naming it', async () => {
    const bad = write('not-profile.txt', 'this is not a profile\n');
    await expect(analyze(bad)).rejects.toThrow(UsageError);
    await expect(analyze(bad)).rejects.toThrow(`kprobe profile ${bad}: no "EVENT HITS MISSES" line: not a kprobe_profile`);
    await expect(analyze(join(tmp, 'missing.txt'))).rejects.toThrow(/kprobe profile .*missing\.txt: cannot be read \(ENOENT\)/);
  });
});

describe("stacks without the tracer's frames", () => {
  it('real kretprobe stacks on 6.1: the rethook/kretprobe handlers are dropped, the module frames lead', async () => {
    const run = recorded('kni-like-leaky-3cycles');
    const a = await analyzeTraces({ traces: [run.file('trace.txt')], pairs: [NETDEV], moduleMap: run.map });
    const objects = a.pairs[0].objects;
    expect(objects).toHaveLength(6);
    for (const o of objects) {
      expect(o.caller).toBe('igb_like_probe+0x1a');
      expect(o.stack).toEqual([
        'igb_like_probe+0x1a',
        'kni_like_ioctl_create+0x6f',
        'kni_like_ioctl+0x26',
        '__x64_sys_ioctl',
        'do_syscall_64',
        'entry_SYSCALL_64_after_hwframe',
      ]);
    }
  });

  it('without the module map the first real frame (a raw module address) is kept, the handlers still go', async () => {
    const run = recorded('kni-like-leaky-3cycles');
    const a = await analyzeTraces({ traces: [run.file('trace.txt')], pairs: [NETDEV] });
    const stack = a.pairs[0].objects.find((o) => o.caller === '0xffffffffc024e03a')?.stack;
    expect(stack?.[0]).toBe('0xffffffffc024e03a');
    expect(stack?.some((f) => isTracingFrame(f))).toBe(false);
  });

  it('a stack whose module frame comes after the handlers is attributed to it, never to a handler', () => {
    const trace = [
      '    app-191     [000] .....    21.430000: tracing_mark_write: alloc-balance cycle=1 start',
      '    app-191     [000] .....    21.430100: a0: (alloc_etherdev_mqs+0x2f/0x40 <- alloc_netdev_mqs) ret=0xffff88800bc29000',
      '    app-191     [000] .....    21.430123: <stack trace>',
      ' => kretprobe_trace_func+0x1b9/0x2c0',
      ' => kretprobe_dispatcher+0x3f/0x60',
      ' => kretprobe_rethook_handler+0x56/0x80',
      ' => rethook_trampoline_handler+0x6f/0x130',
      ' => arch_rethook_trampoline_callback+0x3b/0x50',
      ' => arch_rethook_trampoline+0x2c/0x60',
      ' => alloc_etherdev_mqs+0x2f/0x40',
      ' => igb_like_probe+0x1a/0x30 [kni_like]',
      ' => __x64_sys_ioctl+0x8d/0xd0',
      '    app-191     [000] .....    21.530000: tracing_mark_write: alloc-balance cycle=1 end',
    ].join('\n');
    const p = analyzeText(trace, { pairs: [NETDEV], moduleMap: new ModuleMap('kni_like') }).pairs[0];
    expect(p.callers.map((c) => c.caller)).toEqual(['igb_like_probe+0x1a']);
    expect(p.objects[0].stack).toEqual(['alloc_etherdev_mqs+0x2f', 'igb_like_probe+0x1a', '__x64_sys_ioctl+0x8d']);
  });

  it("names the machinery: kretprobe, rethook and ftrace frames, not the kernel's own functions", () => {
    for (const f of [
      'kretprobe_trace_func+0x1b9/0x2c0',
      'arch_rethook_trampoline',
      '__kretprobe_trampoline',
      'ftrace_regs_caller+0x5/0x60',
      'trampoline_handler',
    ])
      expect(isTracingFrame(f), f).toBe(true);
    for (const f of ['igb_like_probe+0x1a/0x30 [kni_like]', 'alloc_etherdev_mqs', '0xffffffffc024e092', '__x64_sys_ioctl'])
      expect(isTracingFrame(f), f).toBe(false);
  });
});

describe('slab caches', () => {
  it('netdevs (kprobe pairing, size unknown): the kmalloc cache their addresses are aligned to', async () => {
    const run = recorded('kni-like-leaky-3cycles');
    const a = await analyzeTraces({ traces: [run.file('trace.txt')], pairs: [NETDEV], slabinfo: run.slabinfo, moduleMap: run.map });
    const check = a.slabCheck![0];
    expect(check.basis).toBe('alignment');
    expect(check.caches).toEqual([{ cache: 'kmalloc-cg-4k', before: 16, after: 33, delta: 17 }]);
    expect(check.text).toBe('alloc_netdev_mqs:free_netdev: 6 objects outstanding, on 4096-byte boundaries: kmalloc-cg-4k active objects +17');
  });

  it('nothing outstanding: nothing to check', async () => {
    const run = recorded('kni-like-fixed-3cycles');
    const a = await analyzeTraces({ traces: [run.file('trace.txt')], pairs: [NETDEV], slabinfo: run.slabinfo, moduleMap: run.map });
    expect(a.slabCheck).toEqual([
      {
        pair: 'alloc_netdev_mqs:free_netdev',
        outstanding: 0,
        basis: 'none',
        caches: [],
        text: 'alloc_netdev_mqs:free_netdev: no module object outstanding, no cache to check',
      },
    ]);
  });

  it('kmalloc cache names and sizes', () => {
    expect([
      kmallocCache(32, false),
      kmallocCache(96, false),
      kmallocCache(4096, true),
      kmallocCache(8192, false),
      kmallocCache(16384, false),
      kmallocCache(24, false),
    ]).toEqual(['kmalloc-32', 'kmalloc-96', 'kmalloc-cg-4k', 'kmalloc-8k', '', '']);
    expect([kmallocSize('kmalloc-cg-4k'), kmallocSize('kmalloc-192'), kmallocSize('dentry')]).toEqual([4096, 192, 0]);
    expect(commonAlignment(['0xffff88800bc2b000', '0xffff88800bc29000'])).toBe(4096);
    expect(commonAlignment(['0xffff88800bc2b000', '0xffff888005bf0fe0'])).toBe(32);
    expect(commonAlignment(['0xffff888000000000'])).toBe(8192);
    expect(commonAlignment([])).toBe(0);
  });
});
