import { describe, expect, it } from 'vitest';
import { compare } from '../../src/verdict/traces.js';
import { prLeakedPerCycle } from '../../src/core/compare.js';
import type { AnalysisResult } from '../../src/core/model.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { analyzeText, fixture, NETDEV } from '../support/trace-fixtures.js';

const before = () => analyzeText(fixture('case-rte-kni-before-fix.trace'), { pairs: [NETDEV] });
const after = () => analyzeText(fixture('case-rte-kni-after-fix.trace'), { pairs: [NETDEV] });

/** A kprobe-style trace: `leaks` objects per cycle at `site` over `cycles` cycles. */
function kprobeRun(site: string, leaks: number, cycles = 3): AnalysisResult {
  const lines: string[] = [];
  let ts = 1;
  let addr = 0x1000;
  const l = (body: string) => lines.push(`          leakyd-121     [000] .....  ${(ts++).toFixed(6)}: ${body}`);
  for (let c = 1; c <= cycles; c++) {
    l(`tracing_mark_write: alloc-balance cycle=${c} start`);
    const held: number[] = [];
    for (let k = 0; k < 2 + leaks; k++) {
      addr += 0x1000;
      held.push(addr);
      l(
        `ab_alloc_ret: (${k < 2 ? 'leaky_create+0x5a/0x100' : `${site}/0x80`} [leaky] <- alloc_netdev_mqs) ret=0xffff8880${addr.toString(16).padStart(8, '0')}`,
      );
    }
    for (const a of held.slice(0, 2)) l(`ab_free: (free_netdev+0x0/0x1e0) dev=0xffff8880${a.toString(16).padStart(8, '0')}`);
    l(`tracing_mark_write: alloc-balance cycle=${c} end`);
  }
  return analyzeText(lines.join('\n'), { pairs: [NETDEV], moduleMap: new ModuleMap('leaky') });
}

describe('compare', () => {
  it('the case: the fix passes, the leak fails, with the headline the users read', () => {
    const fixed = compare(before(), after());
    expect(fixed.verdict).toBe('pass');
    expect(fixed.headline).toBe('✅ pass: no new leak — PR leaks 0/cycle (base 2/cycle)');
    expect(fixed.rows[0]).toMatchObject({ pair: 'alloc_netdev_mqs:free_netdev', total: true, status: 'fixed', change: -2 });
    const leak = compare(after(), before());
    expect(leak.verdict).toBe('fail');
    expect(leak.headline).toBe('❌ fail: PR leaks 2 objects/cycle on alloc_netdev_mqs:free_netdev (base 0)');
    expect(prLeakedPerCycle(leak)).toBe(2);
  });

  it('a pair asked for and never traced is not measured: inconclusive; one track: auto found is only marked', () => {
    const both = { pairs: [NETDEV, { alloc: 'vzalloc', free: 'vfree' }] };
    const c = compare(analyzeText(fixture('case-rte-kni-before-fix.trace'), both), analyzeText(fixture('case-rte-kni-after-fix.trace'), both));
    expect(c.verdict).toBe('inconclusive');
    expect(c.headline).toBe('⚠️ inconclusive: vzalloc:vfree: no vzalloc or vfree event in either trace: check that the pair is traced');
    expect(c.rows.find((r) => r.pair === 'vzalloc:vfree')).toMatchObject({ total: true, status: 'not-measured' });
    const auto = { pairs: [NETDEV, { alloc: 'vzalloc', free: 'vfree', auto: true }] };
    const found = compare(analyzeText(fixture('case-rte-kni-before-fix.trace'), auto), analyzeText(fixture('case-rte-kni-after-fix.trace'), auto));
    expect(found.verdict).toBe('pass');
    expect(found.rows.find((r) => r.pair === 'vzalloc:vfree')).toMatchObject({ total: true, status: 'not-measured' });
  });

  it('a pair the PR trace never saw is not measured on PR, never fixed', () => {
    const c = compare(before(), analyzeText(fixture('kmem-6.1.trace'), { pairs: [NETDEV] }));
    expect(c.verdict).toBe('inconclusive');
    expect(c.headline).toBe(
      '⚠️ inconclusive: alloc_netdev_mqs:free_netdev: no alloc_netdev_mqs or free_netdev event in the PR trace: check that the pair is traced',
    );
    expect(c.rows[0]).toMatchObject({ total: true, status: 'not-measured' });
  });

  it('a pair the PR analysis lacks is not measured on PR, never fixed', () => {
    const c = compare(before(), { ...after(), pairs: [] });
    expect(c.verdict).toBe('inconclusive');
    expect(c.headline).toBe('⚠️ inconclusive: alloc_netdev_mqs:free_netdev: not measured on PR (the PR analysis has no such pair)');
    expect(c.rows.map((r) => r.status)).toEqual(['not-measured', 'unknown', 'unknown', 'unknown']);
  });

  it('function-tracer caller rows carry counts only', () => {
    const c = compare(after(), before());
    expect(c.rows.slice(1).map((r) => [r.caller, r.countedOnly, r.status, r.pr?.allocs, r.pr?.frees])).toEqual([
      ['alloc_etherdev_mqs', true, 'unknown', 2, 0],
      ['kni_ioctl_create', true, 'unknown', 2, 0],
      ['kni_dev_remove', true, 'unknown', 0, 2],
    ]);
  });

  it('names the call site of a new leak with address pairing, matching callers across builds by name', () => {
    const base = kprobeRun('leaky_create_port+0x40', 0);
    const pr = kprobeRun('leaky_create_port+0x44', 2);
    const c = compare(base, pr);
    expect(c.verdict).toBe('fail');
    expect(c.headline).toBe('❌ fail: PR leaks 2 objects/cycle at leaky_create_port (base 0)');
    const row = c.rows.find((r) => r.caller === 'leaky_create_port')!;
    expect(row).toMatchObject({ status: 'new-leak', change: 2, inModule: true, base: null });
    expect(row.pr!.growth).toEqual([2, 4, 6]);
    expect(c.rows.find((r) => r.caller === 'leaky_create')).toMatchObject({ status: 'balanced', change: 0 });
  });

  it('new-leak: a leak the base had too passes unless it grows; any-leak fails it; never passes', () => {
    const base = kprobeRun('leaky_create_port+0x40', 1);
    expect(compare(base, kprobeRun('leaky_create_port+0x40', 1)).verdict).toBe('pass');
    expect(compare(base, kprobeRun('leaky_create_port+0x40', 1)).rows[0].status).toBe('same-leak');
    const worse = compare(base, kprobeRun('leaky_create_port+0x40', 2));
    expect([worse.verdict, worse.rows[0].status]).toEqual(['fail', 'worse']);
    expect(compare(base, kprobeRun('leaky_create_port+0x40', 1), 'any-leak').verdict).toBe('fail');
    const never = compare(base, kprobeRun('leaky_create_port+0x40', 2), 'never');
    expect(never.verdict).toBe('pass');
    expect(never.headline).toBe('✅ pass (fail-on: never): PR leaks 2/cycle (base 1/cycle)');
    const anyLeak = compare(base, kprobeRun('leaky_create_port+0x40', 0), 'any-leak');
    expect(anyLeak.headline).toBe('✅ pass: the PR leaks nothing — PR leaks 0/cycle (base 1/cycle)');
  });

  it('an incomplete side is never a pass, whatever the policy', () => {
    const lost = analyzeText(`# entries-in-buffer/entries-written: 190/320   #P:2\n${fixture('case-rte-kni-after-fix.trace')}`, { pairs: [NETDEV] });
    for (const policy of ['new-leak', 'any-leak', 'never'] as const) {
      const c = compare(before(), lost, policy);
      expect(c.verdict).toBe('inconclusive');
      expect(c.headline).toBe('⚠️ inconclusive: the PR trace lost 130 events (the trace buffer overflowed: raise trace-buffer-kb)');
    }
    expect(compare(lost, after()).headline).toBe('⚠️ inconclusive: the base trace lost 130 events (the trace buffer overflowed: raise trace-buffer-kb)');
    expect(compare(lost, after()).reasons[0]).toMatch(/no evidence of balance/);
  });
});
