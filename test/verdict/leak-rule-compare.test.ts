// The leak rule through the whole analysis and comparison, on kmem trace text in the kernel's
// format: a ring of buffers that frees the evicted one, with a capacity and an unload that frees
// what it holds or not.
import { describe, expect, it } from 'vitest';
import { compare } from '../../src/verdict/traces.js';
import { analyzeText } from '../support/trace-fixtures.js';

const KMALLOC = { alloc: 'kmalloc', free: 'kfree' };

/** `cycles` opens, each pushing a buffer into a ring of `slots` (the oldest freed when full); unload frees the ring when `freeAtUnload`. */
function ringTrace(slots: number, cycles: number, freeAtUnload: boolean): string {
  const lines: string[] = [];
  let ts = 100;
  const l = (body: string) => lines.push(`           cat-210     [001] .....   ${(ts++).toFixed(6)}: ${body}`);
  const ring: string[] = [];
  let next = 0x1000;
  l('tracing_mark_write: alloc-balance phase=load');
  for (let c = 1; c <= cycles; c++) {
    l(`tracing_mark_write: alloc-balance cycle=${c} start`);
    const ptr = `ffff888004${(next++).toString(16).padStart(6, '0')}`;
    l(`kmalloc: call_site=ring_push+0x1c/0x60 [ringmod] ptr=${ptr} bytes_req=256 bytes_alloc=256 gfp_flags=GFP_KERNEL node=-1 accounted=false`);
    ring.push(ptr);
    if (ring.length > slots) l(`kfree: call_site=ring_push+0x3a/0x60 [ringmod] ptr=${ring.shift()}`);
    l(`tracing_mark_write: alloc-balance cycle=${c} end`);
  }
  l('tracing_mark_write: alloc-balance phase=unload');
  if (freeAtUnload) for (const ptr of ring) l(`kfree: call_site=ring_exit+0x12/0x40 [ringmod] ptr=${ptr}`);
  return lines.join('\n');
}

const run = (slots: number, cycles: number, freeAtUnload = true) => analyzeText(ringTrace(slots, cycles, freeAtUnload), { pairs: [KMALLOC] });

describe('the leak rule, base against PR', () => {
  it('a ring of 2 over 6 cycles (outstanding 1, 2, 2, 2, 2, 2, then 0): no leak', () => {
    const pr = run(2, 6);
    expect(pr.pairs[0].moduleCycles?.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter)).toEqual([1, 2, 2, 2, 2, 2]);
    expect(pr.pairs[0].growth).toMatchObject({ shape: 'plateau', from: 2, rate: 0 });
    const c = compare(run(0, 6), pr);
    expect(c.verdict).toBe('pass');
    expect(c.headline).toBe('✅ pass: no new leak — PR leaks 0/cycle (base 0/cycle)');
    expect(c.rows[0].pr?.judged?.text).toBe('plateau from cycle 2: 2 objects, not exceeded in the 4 cycles after');
  });

  it('a ring that never fills, freed at unload: grows while loaded, a new leak under new-leak, not under never', () => {
    const c = compare(run(0, 3), run(64, 3));
    expect(c.verdict).toBe('fail');
    expect(c.headline).toBe('❌ fail: PR grows 1 object/cycle while loaded, freed at unload at ring_push (base 0)');
    expect(c.reasons).toContain(
      'kmalloc:kfree: PR grows 1 object/cycle while loaded, freed at unload at ring_push (base 0): grows through the last cycle: slope over all 3 cycles',
    );
    expect(compare(run(0, 3), run(64, 3), 'never').verdict).toBe('pass');
  });

  it('a ring of 2 never freed at unload: no growth, but what unload left is reported and fails', () => {
    const c = compare(run(2, 3), run(2, 3, false));
    expect(c.verdict).toBe('fail');
    expect(c.headline).toBe('❌ fail: PR leaves 2 objects after unload at ring_push (base 0)');
    expect(c.rows[0].pr?.judged?.shape).toBe('plateau');
  });

  it('with 2 cycles a ring of 2 reads as growth, and the report says a plateau cannot be seen', () => {
    const c = compare(run(0, 2), run(2, 2));
    expect(c.verdict).toBe('fail');
    expect(c.rows[0].pr?.judged?.text).toMatch(/with 2 cycles a cache filling up cannot be told from a leak: run 3 or more/);
  });

  it('a module that allocated only while loading passes with "allocated nothing during the cycles"', () => {
    const line = (ts: number, body: string) => `          insmod-209     [001] .....   ${ts}.000000: ${body}`;
    const text = [
      line(1, 'tracing_mark_write: alloc-balance phase=load'),
      line(
        2,
        'kmalloc: call_site=ringmod_init+0x1c/0x60 [ringmod] ptr=ffff888004001000 bytes_req=256 bytes_alloc=256 gfp_flags=GFP_KERNEL node=-1 accounted=false',
      ),
      line(3, 'tracing_mark_write: alloc-balance cycle=1 start'),
      line(4, 'tracing_mark_write: alloc-balance cycle=1 end'),
      line(5, 'tracing_mark_write: alloc-balance phase=unload'),
      line(6, 'kfree: call_site=ringmod_exit+0x12/0x40 [ringmod] ptr=ffff888004001000'),
    ].join('\n');
    const quiet = analyzeText(text, { pairs: [KMALLOC] });
    const c = compare(quiet, quiet);
    expect(c.noAllocations).toBe(true);
    expect(c.headline).toBe('✅ pass: no new leak — the module allocated nothing during the cycles');
    expect(compare(quiet, run(2, 3)).noAllocations).toBeUndefined();
  });
});
