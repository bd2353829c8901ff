import { describe, expect, it } from 'vitest';
import { analyzeLines, analyzeRanges, analyzeText, fixture, NETDEV } from '../support/trace-fixtures.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { TraceAnalyzer } from '../../src/core/trace-analyzer.js';
import { lineContext } from '../../src/core/awaiting-stacks.js';

const leakyMap = () => new ModuleMap('leaky', fixture('leaky.nm.txt'), JSON.parse(fixture('leaky.sections.json')));

describe('the rte_kni case (function tracer, 4 flag characters, no markers)', () => {
  it('before the fix: 4 allocations, 2 frees, 2 outstanding, 2 per cycle', () => {
    const r = analyzeText(fixture('case-rte-kni-before-fix.trace'), { pairs: [NETDEV] });
    expect(r.complete).toBe(true);
    expect(r.lostEvents).toBe(0);
    expect(r.cycles).toBe(1);
    const p = r.pairs[0];
    expect([p.allocs, p.frees, p.outstanding]).toEqual([4, 2, 2]);
    expect(p.module).toEqual({ allocs: 4, frees: 2, outstanding: 2 });
    expect(p.method).toBe('function');
    expect(p.leakedPerCycle).toBe(2);
    expect(p.callers.map((c) => [c.caller, c.allocs, c.frees, c.inModule])).toEqual([
      ['alloc_etherdev_mqs', 2, 0, null],
      ['kni_ioctl_create', 2, 0, null],
      ['kni_dev_remove', 0, 2, null],
    ]);
    expect(p.cycles).toEqual([{ cycle: 1, allocs: 4, frees: 2, outstanding: 2, outstandingAfter: 2 }]);
  });

  it('after the fix: 4 allocations, 4 frees, nothing outstanding', () => {
    const r = analyzeText(fixture('case-rte-kni-after-fix.trace'), { pairs: [NETDEV] });
    const p = r.pairs[0];
    expect([p.allocs, p.frees, p.outstanding, p.leakedPerCycle]).toEqual([4, 4, 0, 0]);
    expect(r.problems).toEqual([]);
  });

  it('with the module symbols known, a wrapper outside the module hides the leak and says so', () => {
    const map = new ModuleMap('rte_kni', '0000000000000120 T kni_ioctl_create\n0000000000000300 t kni_dev_remove\n');
    const r = analyzeText(fixture('case-rte-kni-before-fix.trace'), { pairs: [NETDEV], moduleMap: map });
    expect(r.pairs[0].module).toEqual({ allocs: 2, frees: 2, outstanding: 0 });
    expect(r.problems.join('\n')).toMatch(/2 allocation\(s\) attributed to call sites outside the module \(e.g. alloc_etherdev_mqs\) with no stack/);
  });
});

describe('6.1 function tracer with TGID, stacks and cycle markers', () => {
  const text = fixture('leaky-cycles-6.1.trace');
  const r = analyzeText(text, { pairs: [NETDEV], moduleMap: new ModuleMap('leaky') });
  const p = r.pairs[0];

  it('reads three cycles, cycle 0 for the load and the unload frees in the totals', () => {
    expect(r.cycles).toBe(3);
    expect(r.complete).toBe(true);
    expect([p.allocs, p.frees, p.outstanding]).toEqual([8, 5, 3]);
    expect(p.moduleCycles!.map((c) => [c.cycle, c.allocs, c.frees, c.outstandingAfter])).toEqual([
      [0, 1, 0, 1],
      [1, 2, 1, 2],
      [2, 2, 1, 3],
      [3, 3, 3, 4],
    ]);
  });

  it('reads the leak per cycle as the slope after each cycle: 1', () => {
    expect(p.leakedPerCycle).toBe(1);
  });

  it('attributes an allocation through alloc_etherdev_mqs to the module frame of its stack', () => {
    const site = p.callers.find((c) => c.caller === 'leaky_create_port+0x40');
    expect(site).toMatchObject({ inModule: true, allocs: 3, frees: 0 });
    expect(p.callers.find((c) => c.caller === 'leaky_init')).toMatchObject({ inModule: true, allocs: 1 });
    expect(p.callers.find((c) => c.caller === 'alloc_etherdev_mqs')).toBeUndefined();
    // Task names with spaces and dashes, `<...>`, kworker/u4:1.
    expect(p.callers.find((c) => c.caller === 'bond_create')).toMatchObject({ allocs: 1, inModule: null });
  });

  it('gives the same result fed in place (pushRange, pushLines) as line by line (push)', () => {
    expect(analyzeRanges(text, { pairs: [NETDEV], moduleMap: new ModuleMap('leaky') })).toEqual(r);
    expect(analyzeLines(text, { pairs: [NETDEV], moduleMap: new ModuleMap('leaky') })).toEqual(r);
    for (const name of ['case-rte-kni-before-fix.trace', 'leaky-kprobe-6.1.trace', 'kmem-6.1.trace', 'kmem-old.trace']) {
      const pairs = name.startsWith('kmem') ? [{ alloc: 'kmalloc', free: 'kfree' }] : [NETDEV];
      const byLine = analyzeText(fixture(name), { pairs, moduleMap: leakyMap() });
      expect(analyzeRanges(fixture(name), { pairs, moduleMap: leakyMap() }), name).toEqual(byLine);
      expect(analyzeLines(fixture(name), { pairs, moduleMap: leakyMap() }), name).toEqual(byLine);
    }
  });
});

describe('kprobe/kretprobe pairing by address', () => {
  const r = analyzeText(fixture('leaky-kprobe-6.1.trace'), { pairs: [NETDEV], moduleMap: leakyMap() });
  const p = r.pairs[0];

  it('pairs ret= with the first argument of the free probe and lists what stays', () => {
    expect(p.method).toBe('kprobe');
    expect([p.allocs, p.frees, p.outstanding, p.unmatchedFrees]).toEqual([3, 1, 2, 1]);
    expect(p.objects.map((o) => [o.address, o.caller, o.inModule, o.cycle])).toEqual([
      ['0xffff888006013000', 'leaky_create_port+0x45', true, 1],
      ['0xffff888006018000', 'leaky_create_port+0x45', true, 1],
    ]);
    expect(p.objects[1].stack).toEqual(['leaky_create_port+0x45', 'leaky_ioctl+0x91']);
  });

  it('resolves a raw return address with nm and the section addresses', () => {
    expect(p.callers.find((c) => c.caller === 'leaky_create+0x87')).toMatchObject({ allocs: 1, frees: 1, outstanding: 0, inModule: true });
  });

  it('ignores a NULL return (failed allocation)', () => {
    expect(p.allocs).toBe(3);
  });

  it('cross-checks with function-tracer lines of the same pair in the trace', () => {
    const functionLine = '          leakyd-121     [000] .....     5.100299: alloc_netdev_mqs <-leaky_create+0x87/0x100 [leaky]';
    const both = `${fixture('leaky-kprobe-6.1.trace')}\n${functionLine}\n`;
    const x = analyzeText(both, { pairs: [NETDEV], moduleMap: leakyMap() });
    expect(x.pairs[0].method).toBe('kprobe');
    expect(x.crossCheck).toEqual([{ pair: 'alloc_netdev_mqs:free_netdev', kprobeAllocs: 3, functionAllocs: 1, agree: false }]);
    expect(x.problems.join('\n')).toMatch(/function tracer counted 1 calls of alloc_netdev_mqs, the probes 3 allocations/);
  });

  it("counts only the module's calls where the probes keep only the module's objects (track: auto): the kernel's own calls are no disagreement", () => {
    const module = '          leakyd-121     [000] .....     5.100299: alloc_netdev_mqs <-leaky_create+0x87/0x100 [leaky]';
    const kernel = '     kworker/0:1-33      [000] .....     5.100310: alloc_netdev_mqs <-rtnl_create_link+0x8f/0x2c0';
    const both = `${fixture('leaky-kprobe-6.1.trace')}\n${[module, module, module, kernel].join('\n')}\n`;
    const x = analyzeText(both, { pairs: [{ ...NETDEV, auto: true }], moduleMap: leakyMap() });
    expect(x.crossCheck).toEqual([{ pair: 'alloc_netdev_mqs:free_netdev', kprobeAllocs: 3, functionAllocs: 3, agree: true }]);
    expect(x.problems.join('\n')).not.toMatch(/function tracer counted/);
    // A named pair keeps every call on both sides: there the kernel's call is a disagreement to show.
    const named = analyzeText(both, { pairs: [NETDEV], moduleMap: leakyMap() });
    expect(named.crossCheck?.[0]).toMatchObject({ kprobeAllocs: 3, functionAllocs: 4, agree: false });
  });
});

describe('kmem tracepoints', () => {
  it('6.1: only the module call sites are tracked against the module, the rest of the kernel is left out', () => {
    const r = analyzeText(fixture('kmem-6.1.trace'), { pairs: [{ alloc: 'kmalloc', free: 'kfree' }], moduleMap: new ModuleMap('leaky') });
    const p = r.pairs[0];
    expect(p.method).toBe('kmem');
    expect([p.allocs, p.frees, p.outstanding]).toEqual([2, 1, 1]);
    expect(p.module).toEqual({ allocs: 2, frees: 1, outstanding: 1 });
    expect(p.callers.map((c) => c.caller)).toEqual(['leaky_alloc+0x1a']);
    expect(p.ignoredAllocs).toBe(1);
    expect(p.unmatchedFrees).toBe(0);
    expect(p.caches).toEqual([{ cache: 'kmalloc-64', allocs: 2, outstanding: 1 }]);
    expect(p.objects.map((o) => o.address)).toEqual(['0xffff888003a1c040']);
    expect(r.problems).toEqual([]);
  });

  it('without a module every call site counts', () => {
    const p = analyzeText(fixture('kmem-6.1.trace'), { pairs: [{ alloc: 'kmalloc', free: 'kfree' }] }).pairs[0];
    expect([p.allocs, p.frees, p.outstanding]).toEqual([3, 2, 1]);
    expect(p.callers.find((c) => c.caller === 'fix_nodes+0x3c')).toMatchObject({ inModule: null, allocs: 1, frees: 1 });
    expect(p.ignoredAllocs).toBe(0);
  });

  it('old kernels: bare hex call sites and pointers; lost events make the result incomplete', () => {
    const r = analyzeText(fixture('kmem-old.trace'), { pairs: [{ alloc: 'kmalloc', free: 'kfree' }] });
    const p = r.pairs[0];
    expect([p.allocs, p.frees, p.outstanding]).toEqual([2, 1, 1]);
    expect(p.callers[0].caller).toBe('0xffffffffc0203112');
    expect(r.lostEvents).toBe(290 + 12);
    expect(r.complete).toBe(false);
    expect(r.problems.join('\n')).toMatch(/overwrote 290 events.*raise trace-buffer-kb/);
    expect(r.problems.join('\n')).toMatch(/12 lost events/);
  });
});

describe('cycles and completeness', () => {
  const line = (ts: number, body: string) => `            app-1     [000] .....  ${ts.toFixed(6)}: ${body}`;
  const mark = (ts: number, text: string) => line(ts, `tracing_mark_write: ${text}`);

  it('a pure leak of one object per cycle over three cycles is exactly 1', () => {
    const lines: string[] = [];
    let ts = 1;
    for (let c = 1; c <= 3; c++) {
      lines.push(mark(ts++, `alloc-balance cycle=${c} start`));
      lines.push(line(ts++, 'alloc_netdev_mqs <-leaky_create'), line(ts++, 'alloc_netdev_mqs <-leaky_create'), line(ts++, 'free_netdev <-leaky_release'));
      lines.push(mark(ts++, `alloc-balance cycle=${c} end`));
    }
    const r = analyzeText(lines.join('\n'), { pairs: [NETDEV] });
    expect(r.pairs[0].leakedPerCycle).toBe(1);
    expect(r.pairs[0].moduleCycles!.filter((c) => c.cycle > 0).map((c) => c.outstandingAfter)).toEqual([1, 2, 3]);
  });

  it('held once at load and freed at unload is no leak per cycle', () => {
    const text = [
      line(1, 'alloc_netdev_mqs <-leaky_init'),
      mark(2, 'cycle 1 start'),
      line(3, 'alloc_netdev_mqs <-leaky_create'),
      line(4, 'free_netdev <-leaky_release'),
      mark(5, 'cycle 1 end'),
      mark(6, 'cycle 2 start'),
      line(7, 'alloc_netdev_mqs <-leaky_create'),
      line(8, 'free_netdev <-leaky_release'),
      mark(9, 'cycle 2 end'),
      mark(10, 'alloc-balance phase=unload'),
      line(11, 'free_netdev <-leaky_exit'),
    ].join('\n');
    const p = analyzeText(text, { pairs: [NETDEV] }).pairs[0];
    expect(p.leakedPerCycle).toBe(0);
    expect(p.outstanding).toBe(0);
    expect(p.moduleCycles!.map((c) => c.outstandingAfter)).toEqual([1, 1, 1]);
  });

  it('a cycle start without its end makes the result incomplete', () => {
    const r = analyzeText([mark(1, 'alloc-balance cycle=1 start'), line(2, 'alloc_netdev_mqs <-x')].join('\n'), { pairs: [NETDEV] });
    expect(r.complete).toBe(false);
    expect(r.problems[0]).toMatch(/started without an end marker/);
  });

  it('per-CPU stats add lost events', () => {
    const a = new TraceAnalyzer({ pairs: [NETDEV] });
    a.push(line(1, 'alloc_netdev_mqs <-x'));
    a.addBufferStats({ cpus: 2, overrun: 12, dropped: 3, lost: 15 });
    const r = a.finish();
    expect([r.complete, r.lostEvents]).toEqual([false, 15]);
  });

  it('reads callers as func+off/size [mod] and raw addresses (function tracer, sym-offset, read after rmmod)', () => {
    const text = [line(1, 'alloc_netdev_mqs+0x4/0x3c0 <-leaky_create+0x5a/0x100 [leaky]'), line(2, 'alloc_netdev_mqs <-0xffffffffc0203187')].join('\n');
    const r = analyzeText(text, { pairs: [NETDEV], moduleMap: leakyMap() });
    expect(r.pairs[0].callers.map((c) => [c.caller, c.inModule, c.allocs])).toEqual([
      ['leaky_create+0x5a', true, 1],
      ['leaky_create+0x87', true, 1],
    ]);
  });

  it('says so when a pair has no event at all', () => {
    const r = analyzeText(line(1, 'kfree <-x'), { pairs: [NETDEV] });
    expect(r.problems[0]).toMatch(/no alloc_netdev_mqs or free_netdev event in the trace/);
  });
});

describe('many call sites', () => {
  it('counts the same past the remembered line ends as line by line', () => {
    const lines: string[] = [];
    for (let k = 0; k < 500; k++) {
      lines.push(`            app-1     [000] .....  ${(k + 1).toFixed(6)}: alloc_netdev_mqs <-caller_${k % 150}`);
      lines.push(`            app-1     [000] .....  ${(k + 1.5).toFixed(6)}: netif_rx_${k % 90} <-caller_${k % 150}`);
      if (k % 2 === 0) lines.push(`            app-1     [000] .....  ${(k + 1.7).toFixed(6)}: free_netdev <-releaser_${k % 80}`);
    }
    const text = lines.join('\n');
    const r = analyzeRanges(text, { pairs: [NETDEV] });
    expect(r).toEqual(analyzeText(text, { pairs: [NETDEV] }));
    expect(analyzeLines(text, { pairs: [NETDEV] })).toEqual(r);
    expect(r.pairs[0]).toMatchObject({ allocs: 500, frees: 250, outstanding: 250 });
    expect(r.pairs[0].callers).toHaveLength(150 + 40);
  });

  it('reads the lines it knows in one pass as it reads them one by one, odd ones too', () => {
    const lines: string[] = [];
    for (let k = 0; k < 600; k++) {
      const comm = ['app-1', 'a] b-2', 'x: y-3', 'kworker/u4:1-56', 'c-4'][k % 5];
      const flags = ['.....', 'd.h1.', '..s1.', '', 'x'][k % 7 === 0 ? 3 : k % 4];
      const stamp = k % 17 === 0 ? `${k}.5x` : (1000 + k * 0.000013).toFixed(6);
      const head = k % 19 === 0 ? `${comm} [00${k % 2}] ${flags} ${stamp}: ` : `${comm.padStart(16)} [00${k % 2}] ${flags} ${stamp}: `;
      const tail = ['alloc_netdev_mqs <-caller_a', 'free_netdev <-caller_b', 'netif_rx <-caller_c', 'alloc_netdev_mqs+0x4/0x10 <-caller_d'][k % 4];
      lines.push(`${head}${tail}${k % 5 === 0 ? '\r' : ''}`);
      if (k % 11 === 0) lines.push(`${head}<stack trace>`, ' => caller_x+0x1/0x2 [mod]');
      if (k % 23 === 0) lines.push('', `${head}`, '# a header');
      if (k % 29 === 0) lines.push(`${head.slice(0, -1)}${tail}`, `${head.slice(0, -1)}_${tail}`, `${head}${tail.slice(0, 5)}`);
    }
    const oneCrLess = (l: string) => (l.endsWith('\r') ? l.slice(0, -1) : l);
    const text = lines.join('\n');
    expect(analyzeLines(text, { pairs: [NETDEV] })).toEqual(analyzeText(lines.map(oneCrLess).join('\n'), { pairs: [NETDEV] }));
    expect(analyzeLines(`${lines.join('\r\n')}\r\n`, { pairs: [NETDEV] })).toEqual(analyzeText(`${text}\n`, { pairs: [NETDEV] }));
  });
});

describe('stacks that do not follow their event (6.1 kmem events with the stacktrace trigger, 2 CPUs)', () => {
  // One open() of leak_shapes built with -DLEAK_CTX, cut from a real run: its kzalloc's stack
  // comes 74 lines later, after the other CPU's 9p traffic and this CPU's RCU softirq frees.
  const shapesMap = () => new ModuleMap('leak_shapes', fixture('leak-shapes-ctx.nm.txt'), JSON.parse(fixture('leak-shapes-ctx.sections.json')));
  const SLAB = { alloc: 'kmalloc', free: 'kfree', auto: true, moreAllocs: ['kmem_cache_alloc'], moreFrees: ['kmem_cache_free'] };
  const trace = fixture('leak-shapes-open-6.1.trace');
  const kasprintfAt = (lines: string[]) => lines.findIndex((l) => l.includes('call_site=kasprintf'));

  it('gives each object its own stack, whatever came in between', () => {
    const p = analyzeText(trace, { pairs: [SLAB], moduleMap: shapesMap() }).pairs[0];
    expect(p.module).toEqual({ allocs: 5, frees: 2, outstanding: 3 });
    expect(p.leakedPerCycle).toBe(3);
    expect(p.objects.map((o) => [o.caller, o.stack?.[0], o.stack?.[1]])).toEqual([
      ['leak_shapes_open+0x20', 'kmalloc_trace', 'leak_shapes_open+0x20'],
      ['leak_shapes_open+0x40', '__kmalloc_node_track_caller', 'kstrdup'],
      ['leak_shapes_open+0x5b', '__kmalloc_node_track_caller', 'kvasprintf'],
    ]);
  });

  it('finds the module through the stack of a helper (kasprintf) when a hardirq and the other CPU write between event and stack', () => {
    const lines = trace.split('\n');
    const irq = lines.find((l) => / dNh5\. .* kfree: /.test(l));
    const other = lines.find((l) => l.includes('[000]') && l.includes('kmalloc: call_site=p9_fcall_init'));
    expect(irq && other).toBeTruthy();
    const at = kasprintfAt(lines);
    lines.splice(at + 1, 0, other as string, irq as string, other as string);
    for (const analyze of [analyzeText, analyzeRanges, analyzeLines]) {
      const p = analyze(lines.join('\n'), { pairs: [SLAB], moduleMap: shapesMap() }).pairs[0];
      expect(p.module.outstanding).toBe(3);
      expect(p.objects.find((o) => o.stack?.[2] === 'kasprintf')?.caller).toBe('leak_shapes_open+0x5b');
    }
  });

  it('counts an allocation still waiting for its stack before another CPU releases the same object', () => {
    const lines = trace.split('\n');
    const at = lines.findIndex((l) => l.includes('ptr=ffff8880063a0ea0'));
    // A real kfree of the other CPU, now of the kzalloc's object, right after the allocation.
    const release = (lines.find((l) => l.includes('[000]') && l.includes(' kfree: ')) as string).replace(/ptr=\S+/, 'ptr=ffff8880063a0ea0');
    lines.splice(at + 1, 0, release);
    const p = analyzeText(lines.join('\n'), { pairs: [SLAB], moduleMap: shapesMap() }).pairs[0];
    expect(p.module).toEqual({ allocs: 5, frees: 3, outstanding: 2 });
    expect(p.objects.map((o) => o.address)).not.toContain('0xffff8880063a0ea0');
  });

  it('gives a stack to no event of another level or another CPU', () => {
    const lines = trace.split('\n');
    const at = kasprintfAt(lines);
    // The stack now reads as printed in softirq context, then on a CPU with no event awaiting
    // one: kasprintf's kmalloc gets neither, and with no stack it is not the module's.
    for (const moved of [lines[at + 1].replace('.....', '..s1.'), lines[at + 1].replace('[001]', '[003]')]) {
      const copy = [...lines];
      copy[at + 1] = moved;
      const p = analyzeText(copy.join('\n'), { pairs: [SLAB], moduleMap: shapesMap() }).pairs[0];
      expect(p.module.outstanding).toBe(2);
      expect(p.ignoredAllocs).toBeGreaterThan(0);
    }
  });
});

describe('lineContext', () => {
  it('reads the CPU and the interrupt level, with and without the flags column', () => {
    const at = (l: string) => lineContext(l, 0, l.length);
    expect(at('           sleep-151     [001] .....     7.177491: <stack trace>')).toBe(2 * 8);
    expect(at('           sleep-151     [001] dNh5.     7.177828: kfree: call_site=x ptr=0')).toBe(2 * 8 + 2);
    expect(at('           sleep-151     [012] ..s1.     7.176910: kmem_cache_free: call_site=x')).toBe(13 * 8 + 1);
    expect(at('     kni-11436 [003] d..2  2207.601: alloc_netdev_mqs <-kni_ioctl_create')).toBe(4 * 8);
    expect(at('  <...>-2001  [000]  1000.5: kfree: call_site=x ptr=0')).toBe(8);
    expect(at('alloc-balance cycle=1 start')).toBe(0);
  });
});
