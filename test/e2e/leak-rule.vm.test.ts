// What a leak is, and modules that name no allocator, on real modules: the bundled action in the VM against
// demo/leak-shapes with no track input. A ring that keeps the last 2 buffers (a bounded cache) is
// no leak; one that keeps them all until unload is one; a module that allocates only with
// kasprintf is traced, and one that allocates nothing passes with that said. Bad frees are tested
// on trace text (test/core/bad-frees.test.ts): a second kmem_cache_free of an object oopsed the
// 6.1 guest even on a cache created with SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON
// (the guest panics on oops), so no module here frees twice.
import { describe, expect, test } from 'vitest';
import { useShapesRepo } from '../support/shapes-action.js';

const VARIANTS = ['', '-DRING_OF_2', '-DKEEP_ALL', '-DMINIMAL', '-DMINIMAL -DLEAK_LABEL', '-DMINIMAL -DMINIMAL_NOTHING'] as const;
const { sha, run } = useShapesRepo('ab-leak-rule-', VARIANTS, 3);

describe('what a leak is, on the leak_shapes module (3 cycles, no track input)', () => {
  test('a ring that keeps the last 2 buffers and frees the evicted one: pass, judged a plateau from cycle 2', () => {
    const r = run('ring', sha[''], sha['-DRING_OF_2']);
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    expect(r.report!.comparison.headline).toBe('✅ pass: no new leak — PR leaks 0/cycle (base 0/cycle)');
    const site = r.report!.comparison.rows.find((x) => x.caller === 'shape_ring_push');
    expect(site?.pr?.growth).toEqual([1, 2, 2]);
    expect(site?.pr?.outstanding).toBe(0);
    expect(site?.pr?.judged).toMatchObject({ shape: 'plateau', rate: 0, from: 2 });
    const total = r.report!.comparison.rows.find((x) => x.total);
    // The module's total holds the buffer its init allocated, too.
    expect(total?.pr?.judged?.text).toBe('plateau from cycle 2: 3 objects, not exceeded in the 1 cycle after');
  });

  test('a ring that keeps every buffer until unload: fail, grows 1 per cycle while loaded, freed at unload', () => {
    const r = run('keep-all', sha[''], sha['-DKEEP_ALL']);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.comparison.headline).toBe('❌ fail: PR grows 1 object/cycle while loaded, freed at unload at shape_ring_push (base 0)');
    const site = r.report!.comparison.rows.find((x) => x.caller === 'shape_ring_push');
    expect(site?.pr).toMatchObject({ growth: [1, 2, 3], outstanding: 0, leakedPerCycle: 1 });
    expect(site?.pr?.judged?.text).toBe('grows through the last cycle: slope over all 3 cycles');
    expect(r.summary).toContain('all freed at unload');
  });
});

describe('modules with no allocator the tracker names among their imports', () => {
  test('a module that allocates only with kasprintf: traced by the kmem tracepoints, its leak found at its open', () => {
    const r = run('kasprintf', sha['-DMINIMAL'], sha['-DMINIMAL -DLEAK_LABEL']);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.comparison.headline).toBe('❌ fail: PR leaks 1 object/cycle at leak_shapes_open (base 0)');
    expect(r.report!.pr.tracked).toEqual(['slab objects (kmalloc, kmem_cache): kasprintf -> kmalloc:kfree']);
  });

  test('a module that allocates nothing: it loads and cycles, and passes with that said', () => {
    const r = run('nothing', sha['-DMINIMAL -DMINIMAL_NOTHING'], sha['-DMINIMAL -DMINIMAL_NOTHING']);
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    expect(r.report!.comparison.headline).toBe('✅ pass: no new leak — the module allocated nothing during the cycles');
    expect(r.report!.comparison.noAllocations).toBe(true);
    for (const side of [r.report!.base, r.report!.pr]) {
      expect(side.status).toBe('ok');
      expect(side.analysis?.cycles).toBe(3);
    }
  });
});
