// track: auto on real modules: the bundled action in the VM against demo/leak-shapes, built with
// Kbuild in the variants under test. No track input: the families come from the .ko's imports.
import { describe, expect, test } from 'vitest';
import { useShapesRepo } from '../support/shapes-action.js';

const VARIANTS = ['', '-DLEAK_ITEM', '-DLEAK_OTHER', '-DKFREE_RCU', '-DLEAK_CTX'] as const;
const { sha, run } = useShapesRepo('ab-shapes-', VARIANTS, 3);

describe('track: auto on the leak_shapes module', () => {
  test("a module's own kmem_cache with kmem_cache_free forgotten: fail at the allocating function, 1/cycle, no lost events", () => {
    const r = run('item', sha[''], sha['-DLEAK_ITEM']);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    // The one more: with items leaked the variant leaves its cache undestroyed at exit, and the
    // objects kmem_cache_create made for it stay after unload.
    expect(r.report!.comparison.headline).toBe('❌ fail: PR leaks 1 object/cycle at shape_take_item (base 0) (+1 more)');
    expect(
      r.report!.comparison.reasons.some((x) => /PR leaves \d+ objects after unload at leak_shapes_init/.test(x)),
      r.report!.comparison.reasons.join('\n'),
    ).toBe(true);
    expect(r.report!.pairs).toEqual(['kmalloc:kfree']);
    expect(r.report!.pr.tracked).toEqual([
      'slab objects (kmalloc, kmem_cache): kasprintf, kfree, kmalloc_trace, kmem_cache_alloc, kmem_cache_free, kstrdup -> kmalloc:kfree',
    ]);
    for (const side of [r.report!.base, r.report!.pr]) expect(side.analysis?.lostEvents).toBe(0);
    const site = r.report!.comparison.rows.find((x) => x.caller === 'shape_take_item');
    expect(site?.location).toMatch(/^leak_shapes\.c:\d+$/);
    expect(site?.pr?.growth).toEqual([1, 2, 3]);
  });

  test('a plain kmalloc leak with no track input: fail at the open function, 3 per cycle (kzalloc, kstrdup, kasprintf)', () => {
    const r = run('ctx', sha[''], sha['-DLEAK_CTX']);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.comparison.headline).toBe('❌ fail: PR leaks 3 objects/cycle at leak_shapes_open (base 0)');
  });

  test('the leak fixed at one site and added at another at the same rate: fail, naming the new site', () => {
    const r = run('moved', sha['-DLEAK_ITEM'], sha['-DLEAK_OTHER']);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.comparison.headline).toMatch(/^❌ fail: PR leaks 1 object\/cycle at shape_take_other/);
    const rows = Object.fromEntries(r.report!.comparison.rows.filter((x) => !x.total && x.pair === 'kmalloc:kfree').map((x) => [x.caller, x.status]));
    expect(rows).toMatchObject({ shape_take_item: 'fixed', shape_take_other: 'new-leak' });
  });

  test('balanced code that frees with kfree_rcu: pass with 0 leaked per cycle on both sides', () => {
    const r = run('rcu', sha[''], sha['-DKFREE_RCU']);
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    for (const side of [r.report!.base, r.report!.pr]) {
      expect(side.status).toBe('ok');
      for (const p of side.analysis!.pairs) expect(p.leakedPerCycle, `${side.side} ${p.alloc}:${p.free}`).toBe(0);
    }
    expect(r.report!.pr.notes).toContain('kvfree_call_rcu traced: an object given to kfree_rcu() counts as released when it is queued');
  });
});
