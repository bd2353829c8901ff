// Memory the module gets through kernel APIs, and the allocators a named track leaves out, on a
// real kernel: the bundled action in the VM against demo/leak-shapes variants that make an sk_buff,
// a platform device (whose probe takes devres memory) and a kobject per open, and one that leaks
// from its own slab cache while the track names only kmalloc:kfree.
import { describe, expect, test } from 'vitest';
import { useShapesRepo } from '../support/shapes-action.js';

const API = '-DSHAPE_SKB -DSHAPE_PDEV -DSHAPE_KOBJ';
const VARIANTS = ['', '-DLEAK_ITEM', API, `${API} -DLEAK_SKB`, `${API} -DLEAK_KOBJ`] as const;
const { sha, run } = useShapesRepo('ab-api-memory-', VARIANTS, 3);

describe('memory from kernel APIs, with no track input', () => {
  test('an sk_buff per open never freed: fail at the open function, 2 objects a cycle (head and data) in the __alloc_skb row', () => {
    const r = run('skb', sha[API], sha[`${API} -DLEAK_SKB`]);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.comparison.headline).toBe('❌ fail: PR leaks 2 objects/cycle at leak_shapes_open (base 0)');
    const row = r.report!.comparison.rows.find((x) => !x.total && x.pair.startsWith('__alloc_skb:'));
    expect(row?.caller).toMatch(/^leak_shapes_open/);
    expect(row?.location).toMatch(/^leak_shapes\.c:\d+$/);
    expect(row?.pr?.growth).toEqual([2, 4, 6]);
    const pr = r.report!.pr.analysis!.pairs.find((p) => p.alloc === '__alloc_skb');
    expect(pr?.viaApi).toBe(true);
    expect(pr?.objects.every((o) => o.stack?.[0] === '__alloc_skb (kernel API)')).toBe(true);
  });

  test('a kobject per open never put: fail at the open function, in the kobject_create_and_add row', () => {
    const r = run('kobj', sha[API], sha[`${API} -DLEAK_KOBJ`]);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.comparison.headline).toMatch(/^❌ fail: PR leaks \d+ objects?\/cycle at leak_shapes_open/);
    const row = r.report!.comparison.rows.find((x) => !x.total && x.pair.startsWith('kobject_create_and_add:'));
    expect(row?.status).toBe('new-leak');
    expect(row?.pr?.leakedPerCycle).toBeGreaterThanOrEqual(1);
  });

  test('an sk_buff, a platform device with devres and a kobject per open, each given back: pass, every row 0 a cycle on both sides', () => {
    const r = run('balanced', sha[API], sha[API]);
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    for (const side of [r.report!.base, r.report!.pr]) {
      expect(side.status).toBe('ok');
      const api = side.analysis!.pairs.filter((p) => p.viaApi);
      expect(api.map((p) => p.alloc)).toEqual(expect.arrayContaining(['__alloc_skb', 'kobject_create_and_add']));
      for (const p of side.analysis!.pairs) expect(p.leakedPerCycle, `${side.side} ${p.alloc}:${p.free}`).toBe(0);
    }
  });
});

describe('allocators a named track leaves out', () => {
  test("the module's own cache leaks while the track names only kmalloc:kfree: fail at the allocating function, the left-out allocator named", () => {
    const r = run('left-out', sha[''], sha['-DLEAK_ITEM'], { track: 'kmalloc:kfree' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.comparison.headline).toMatch(/^❌ fail: PR leaks 1 object\/cycle at shape_take_item \(base 0\)/);
    expect(r.report!.pr.notes?.find((n) => n.startsWith('track leaves out allocators the module imports: '))).toMatch(/kmem_cache_alloc/);
    const row = r.report!.pr.analysis!.pairs.find((p) => p.untracked);
    expect(`${row?.alloc}:${row?.free}`).toBe('kmem_cache_alloc:kmem_cache_free');
    expect(row?.module.outstanding).toBe(3);
  });
});
