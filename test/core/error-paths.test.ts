import { describe, expect, it } from 'vitest';
import {
  allocatorInLine,
  compareSweeps,
  newErrorPathLeaks,
  siteLimitSeconds,
  SWEEP_BUDGET_SECONDS,
  SWEEP_MAX_SITES,
  sectionsFromSymbols,
  sweepAllocators,
  sweepBound,
  sweepLeaks,
  cycleLeftovers,
  sweepSites,
} from '../../src/core/error-paths.js';
import { applyErrorPaths } from '../../src/verdict/decide.js';
import { familyOf } from '../../src/core/allocator-families.js';
import type { AnalysisResult, CallerCounts, Comparison, ErrorPathSite, ErrorPaths, PairResult } from '../../src/core/model.js';
import { parseNm } from '../../src/core/module-map.js';

function caller(name: string, allocs: number, outstanding: number, inModule: boolean | null = true, location?: string): CallerCounts {
  return { caller: name, inModule, allocs, frees: allocs - outstanding, outstanding, perCycle: [], ...(location ? { location } : {}) };
}

function pair(alloc: string, free: string, method: PairResult['method'], callers: CallerCounts[]): PairResult {
  const sum = (k: 'allocs' | 'frees' | 'outstanding') => callers.reduce((s, c) => s + c[k], 0);
  const counts = { allocs: sum('allocs'), frees: sum('frees'), outstanding: sum('outstanding') };
  return { alloc, free, method, ...counts, module: counts, callers, cycles: [], leakedPerCycle: 0, unmatchedFrees: 0, objects: [] };
}

function analysis(pairs: PairResult[]): AnalysisResult {
  return { complete: true, lostEvents: 0, cycles: 1, pairs, problems: [] };
}

function site(name: string, leaks: { caller: string; count: number; location?: string }[], extra: Partial<ErrorPathSite> = {}): ErrorPathSite {
  return {
    site: name,
    injected: true,
    loaded: true,
    workload: 'ok',
    unloaded: true,
    leaks: leaks.map((l) => ({ pair: 'kmalloc:kfree', ...l })),
    ...extra,
  };
}

const sweep = (...sites: ErrorPathSite[]): ErrorPaths => ({ sites, seconds: 5 });

function comparison(verdict: Comparison['verdict'], failOn: Comparison['failOn'] = 'new-leak'): Comparison {
  const side = { complete: true, lostEvents: 0, cycles: 3 };
  return { verdict, failOn, headline: `${verdict}: ...`, reasons: [], rows: [], base: side, pr: side };
}

describe('the sites the sweep fails', () => {
  it("are the module's own allocation call sites with an offset, of object-paired pairs, each once", () => {
    const a = analysis([
      pair('kmalloc', 'kfree', 'kmem', [
        caller('shape_open+0x2a', 3, 0),
        caller('shape_open+0x4f', 3, 0),
        caller('sock_alloc+0x10', 9, 0, false),
        caller('shape_exit+0x5', 0, 0),
      ]),
      pair('vzalloc', 'vfree', 'kprobe', [caller('shape_open+0x2a', 1, 0), caller('shape_init', 1, 0)]),
      pair('request_threaded_irq', 'free_irq', 'function', [caller('shape_open+0x90', 3, 0)]),
    ]);
    expect(sweepSites(a)).toEqual(['shape_open+0x2a', 'shape_open+0x4f']);
  });
});

describe('the bound of error-paths: auto', () => {
  it('runs a small sweep and says what it will cost', () => {
    expect(sweepBound(6, 2.5)).toEqual({ estimateSeconds: 15, skipped: null });
  });
  it('skips a sweep over the time budget, with the figures', () => {
    const b = sweepBound(10, 7);
    expect(b.skipped).toBe(
      `10 sites × 7.0 s (one load, cycle and unload) ≈ 70 s, more than the ${SWEEP_BUDGET_SECONDS} s error-paths: auto allows (error-paths: all sweeps them all)`,
    );
  });
  it('error-paths: all has no bound but the sites seen', () => {
    expect(sweepBound(SWEEP_MAX_SITES + 10, 7, 'all')).toEqual({ estimateSeconds: 238, skipped: null });
    expect(sweepBound(0, 7, 'all').skipped).toMatch(/no allocation call site/);
  });
  it("calls an injected cycle hung only past ten times its estimate and past the workload's own limits", () => {
    const workload = { readyTimeoutSeconds: 60, holdSeconds: 0.3, graceSeconds: 10 };
    expect(siteLimitSeconds(2.5, workload)).toBe(131);
    expect(siteLimitSeconds(20, workload)).toBe(200);
  });
  it('skips a module with too many sites, and one with none', () => {
    expect(sweepBound(SWEEP_MAX_SITES + 1, 0.1).skipped).toMatch(/more than the 24 error-paths: auto sweeps/);
    expect(sweepBound(0, 1).skipped).toBe('no allocation call site of the module was seen in the cycles');
  });
});

describe('what an injected run left', () => {
  it("counts the module's objects still allocated, per call site, and nothing outside the module", () => {
    const a = analysis([
      pair('kmalloc', 'kfree', 'kmem', [
        caller('shape_open+0x2a', 1, 1, true, 'shapes.c:40'),
        caller('shape_open+0x4f', 1, 0),
        caller('other+0x1', 4, 2, false),
      ]),
    ]);
    expect(sweepLeaks(a)).toEqual([{ caller: 'shape_open+0x2a', location: 'shapes.c:40', pair: 'kmalloc:kfree', count: 1 }]);
  });

  it('a module that leaks at a site in every cycle: an injected cycle leaving that much there is no finding, more is', () => {
    // The normal run: 3 cycles, 3 objects left after unload at shape_open+0x2a (one a cycle).
    const normal = { ...analysis([pair('kmalloc', 'kfree', 'kmem', [caller('shape_open+0x2a', 3, 3, true, 'shapes.c:40')])]), cycles: 3 };
    const leftovers = cycleLeftovers(normal);
    expect([...leftovers.values()]).toEqual([1]);
    const once = analysis([pair('kmalloc', 'kfree', 'kmem', [caller('shape_open+0x2a', 1, 1, true, 'shapes.c:40')])]);
    expect(sweepLeaks(once, leftovers)).toEqual([]);
    const twice = analysis([pair('kmalloc', 'kfree', 'kmem', [caller('shape_open+0x2a', 2, 2, true, 'shapes.c:40')])]);
    expect(sweepLeaks(twice, leftovers)).toEqual([{ caller: 'shape_open+0x2a', location: 'shapes.c:40', pair: 'kmalloc:kfree', count: 1 }]);
  });
});

describe('the allocator a source line calls', () => {
  it.each([
    ['\tstruct ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);', 'kzalloc'],
    ['\treturn kasprintf(GFP_KERNEL, "open-%u", opens);', 'kasprintf'],
    ['\tctx->name = kstrdup("x", GFP_KERNEL);', 'kstrdup'],
    ['\tdev = alloc_netdev(sizeof(*p), "x%d", NET_NAME_UNKNOWN, setup);', 'alloc_netdev'],
    ['\tp = kmem_cache_alloc(cache, GFP_KERNEL);', 'kmem_cache_alloc'],
    ['\tif (!ctx) return -ENOMEM;', undefined],
  ])('%s', (line, expected) => {
    expect(allocatorInLine(line)).toBe(expected);
  });
});

describe('sections of a module whose init failed', () => {
  it('come from one printed symbol address per section and the .ko symbol values', () => {
    const nm = [
      'shape_open          |0000000000000040|   t  |            FUNC|0000000000000080|     |.text',
      'shape_init          |0000000000000010|   t  |            FUNC|0000000000000060|     |.init.text',
    ].join('\n');
    const s = sectionsFromSymbols(parseNm(nm), [
      { name: 'shape_open', address: '0xffffffffc0a01040' },
      { name: 'shape_init', address: '0xffffffffc0a05010' },
      { name: 'not_ours', address: '0xffffffffc0b00000' },
    ]);
    expect(s).toEqual({ '.text': '0xffffffffc0a01000', '.init.text': '0xffffffffc0a05000' });
  });
});

describe('the allocators the helper is asked to probe', () => {
  it("are the module's imports that allocate, releasers and other functions left out", () => {
    const isAlloc = (n: string) => familyOf(n)?.role === 'alloc';
    expect(sweepAllocators(['kfree', 'kmalloc_trace', 'kstrdup', 'misc_register', 'kmalloc_trace', 'vzalloc'], isAlloc)).toEqual([
      'kmalloc_trace',
      'kstrdup',
      'vzalloc',
    ]);
  });
});

describe('base against PR', () => {
  const ctxLeak = site('shape_make_label+0x1f', [{ caller: 'leak_shapes_open+0x1b', count: 1, location: 'leak_shapes.c:92' }], {
    location: 'leak_shapes.c:84',
    allocator: 'kasprintf',
  });

  it('names the site that failed and the site that leaked', () => {
    const [f] = newErrorPathLeaks(sweep(site('shape_make_label+0x1a', [])), sweep(ctxLeak));
    expect(f.text).toBe('when the kasprintf at shape_make_label:84 fails, the object from leak_shapes_open:92 is never freed');
  });

  it('a leak the base has too, at the same functions (other offsets), is not new', () => {
    const base = sweep(site('shape_make_label+0x1a', [{ caller: 'leak_shapes_open+0x17', count: 1 }]));
    expect(newErrorPathLeaks(base, sweep(ctxLeak))).toEqual([]);
  });

  it('any-leak counts every PR leak; an incomplete site counts for nothing', () => {
    const base = sweep(site('shape_make_label+0x1a', [{ caller: 'leak_shapes_open+0x17', count: 1 }]));
    expect(newErrorPathLeaks(base, sweep(ctxLeak), true)).toHaveLength(1);
    expect(newErrorPathLeaks(undefined, sweep({ ...ctxLeak, incomplete: true }))).toEqual([]);
  });

  it('fails a passing comparison under new-leak with the finding as headline; lists it only under never', () => {
    const pr = { errorPaths: sweep(ctxLeak, { ...ctxLeak, site: 'leak_shapes_open+0x40', allocator: 'kstrdup', location: 'leak_shapes.c:88' }) };
    const clean = { errorPaths: sweep(site('shape_make_label+0x1a', []), site('leak_shapes_open+0x3c', [])) };
    const c = applyErrorPaths(comparison('pass'), clean, pr);
    expect(c.verdict).toBe('fail');
    expect(c.headline).toBe(
      '❌ fail: when the kasprintf at shape_make_label:84 fails, the object from leak_shapes_open:92 is never freed (+1 more error path)',
    );
    expect(c.reasons).toHaveLength(2);
    const never = applyErrorPaths(comparison('pass', 'never'), clean, pr);
    expect(never.verdict).toBe('pass');
    expect(never.errorPaths).toHaveLength(2);
  });

  it('judges nothing against a base that ran no sweep: what the PR found is listed as not compared', () => {
    const c = applyErrorPaths(comparison('pass'), {}, { errorPaths: sweep(ctxLeak) });
    expect(c.verdict).toBe('pass');
    expect(c.errorPathsNotCompared?.map((f) => f.text)).toEqual([
      'when the kasprintf at shape_make_label:84 fails, the object from leak_shapes_open:92 is never freed',
    ]);
  });

  it('leaves a comparison alone when the PR ran no sweep or the sweep found nothing new', () => {
    const c = comparison('pass');
    expect(applyErrorPaths(c, {}, {})).toBe(c);
    expect(applyErrorPaths(c, { errorPaths: sweep(ctxLeak) }, { errorPaths: sweep(ctxLeak) })).toBe(c);
  });
});

describe('a site whose failure breaks the kernel', () => {
  const crash = { kind: 'crash' as const, what: 'NULL pointer dereference', where: 'abcase_open+0x2a' };
  const opened = (offset: string, extra: Partial<ErrorPathSite> = {}) =>
    site(`abcase_open+${offset}`, [], { location: 'abcase.c:18', allocator: 'kzalloc', ...extra });

  it('is a finding on the PR when the base survived the same site, named by its allocator and line', () => {
    const { findings } = compareSweeps(sweep(opened('0x1a')), { ...sweep(opened('0x1f', { breakage: crash })), module: 'abcase' });
    expect(findings.map((f) => f.text)).toEqual(['failing the kzalloc at abcase_open:18 crashed the kernel (NULL pointer dereference in abcase_open+0x2a)']);
  });

  it("is not the PR's when the base crashed at the same function and allocator, whatever the line and offset", () => {
    const base = sweep(opened('0x1a', { location: 'abcase.c:15', breakage: { ...crash, where: 'abcase_open+0x22' } }));
    expect(compareSweeps(base, sweep(opened('0x1f', { breakage: crash })))).toEqual({ findings: [], notCompared: [] });
  });

  it("at another allocator of the same function is the PR's", () => {
    const base = sweep(opened('0x1a', { allocator: 'kmalloc', breakage: crash }));
    expect(compareSweeps(base, sweep(opened('0x1f', { breakage: crash }))).findings).toHaveLength(1);
  });

  it('says how a hang and a module left loaded read', () => {
    const pr = {
      ...sweep(opened('0x1f', { breakage: { kind: 'hang', seconds: 131 } }), site('abcase_ioctl+0x10', [], { breakage: { kind: 'stuck' } })),
      module: 'abcase',
    };
    expect(compareSweeps(sweep(opened('0x1a'), site('abcase_ioctl+0x12', [])), pr).findings.map((f) => f.text)).toEqual([
      'failing the kzalloc at abcase_open:18 hung the injected cycle (it did not end within 131 s)',
      'failing the allocation at abcase_ioctl left abcase unable to unload',
    ]);
  });

  it("leaves what the PR found at a site the base's sweep never reached uncompared, and fails nothing for it", () => {
    const base: ErrorPaths = { ...sweep(opened('0x1a', { breakage: crash })), notSwept: ['abcase_read+0x30'] };
    const later = site('abcase_read+0x31', [{ caller: 'abcase_open+0x1f', count: 1 }], { allocator: 'kmalloc' });
    const pr = sweep(opened('0x1f'), later);
    const r = compareSweeps(base, pr);
    expect(r.findings).toEqual([]);
    expect(r.notCompared.map((f) => f.text)).toEqual(['when the kmalloc at abcase_read fails, the object from abcase_open is never freed']);
    const c = applyErrorPaths(comparison('pass'), { errorPaths: base }, { errorPaths: pr });
    expect(c.verdict).toBe('pass');
    expect(c.errorPathsNotCompared).toHaveLength(1);
  });

  it('a site new in the PR is compared when the base swept all of its own', () => {
    const pr = sweep(opened('0x1f'), site('abcase_read+0x31', [{ caller: 'abcase_open+0x1f', count: 1 }], { allocator: 'kmalloc' }));
    expect(compareSweeps(sweep(opened('0x1a')), pr).findings).toHaveLength(1);
  });

  it('fails the check with the crash as headline; a crash the base has too passes', () => {
    const pr = { errorPaths: { ...sweep(opened('0x1f', { breakage: crash })), module: 'abcase' } };
    const c = applyErrorPaths(comparison('pass'), { errorPaths: sweep(opened('0x1a')) }, pr);
    expect(c.verdict).toBe('fail');
    expect(c.headline).toBe('❌ fail: failing the kzalloc at abcase_open:18 crashed the kernel (NULL pointer dereference in abcase_open+0x2a)');
    expect(applyErrorPaths(comparison('pass'), { errorPaths: sweep(opened('0x1a', { breakage: crash })) }, pr).verdict).toBe('pass');
  });
});
