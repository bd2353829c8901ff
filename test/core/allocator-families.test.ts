import { describe, expect, it, test } from 'vitest';
import { autoTrack, familyOf, isKmemPair, objectArg, pairMismatch, untrackedAllocators } from '../../src/core/allocator-families.js';
import { fixture } from '../support/trace-fixtures.js';

/** `nm -u` of a real .ko: the symbol names, one a line. */
function imports(nmText: string): string[] {
  return nmText
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((n) => n !== '');
}

describe('track: auto', () => {
  test("the kni-like module's imports give its netdev pair and its kmalloc pair, kfree_rcu counted as a release", () => {
    const found = autoTrack(imports(fixture('kni-like.imports.txt')));
    expect(found.pairs).toEqual([
      { alloc: 'kmalloc', free: 'kfree', auto: true },
      { alloc: 'alloc_netdev_mqs', free: 'free_netdev', moreAllocs: ['alloc_etherdev_mqs'], auto: true },
    ]);
    expect(found.found).toEqual([
      'slab objects (kmalloc, kmem_cache): kfree, kmalloc_trace, kvfree_call_rcu -> kmalloc:kfree',
      'net devices: alloc_etherdev_mqs, alloc_netdev_mqs, free_netdev -> alloc_netdev_mqs:free_netdev',
    ]);
  });

  test('a module with its own kmem_cache, vmalloc, pages, kasprintf and kvmalloc gets every family, releasers whoever frees', () => {
    const found = autoTrack([
      'kmem_cache_create',
      'kmem_cache_alloc',
      'kmem_cache_free',
      'kasprintf',
      'kvmalloc_node',
      'vzalloc',
      '__get_free_pages',
      'free_pages',
      'ioremap',
      'iounmap',
      'request_threaded_irq',
      'free_irq',
      'printk',
    ]);
    expect(found.pairs).toEqual([
      {
        alloc: 'kmalloc',
        free: 'kfree',
        moreAllocs: ['kmem_cache_alloc', 'kasprintf', 'kvmalloc_node'],
        moreFrees: ['kmem_cache_free', 'kvfree'],
        auto: true,
      },
      { alloc: 'vzalloc', free: 'vfree', auto: true },
      { alloc: '__get_free_pages', free: 'free_pages', auto: true },
      { alloc: 'ioremap', free: 'iounmap', auto: true },
      { alloc: 'request_threaded_irq', free: 'free_irq', auto: true },
    ]);
  });

  test('a module that allocates nothing the table knows still gets the slab pair, by the kmem tracepoints', () => {
    const found = autoTrack(['kfree', 'printk', 'misc_register']);
    expect(found.pairs).toEqual([{ alloc: 'kmalloc', free: 'kfree', auto: true }]);
    expect(autoTrack(['printk', 'alloc_skb', 'kobject_create_and_add']).found).toEqual([
      'slab objects (kmalloc, kmem_cache): none imported, traced whatever the module imports -> kmalloc:kfree',
    ]);
    expect(isKmemPair(found.pairs[0])).toBe(true);
  });

  test('a module that allocates only with kasprintf: the kmem pair, kasprintf probed beside the tracepoints', () => {
    const found = autoTrack(['kasprintf', 'kfree', 'misc_register']);
    expect(found.pairs).toEqual([{ alloc: 'kmalloc', free: 'kfree', moreAllocs: ['kasprintf'], auto: true }]);
    expect(isKmemPair(found.pairs[0])).toBe(true);
  });
});

describe('the argument that carries the object', () => {
  test('kmem_cache_free(cache, obj) and dma_free_attrs(dev, size, cpu_addr, ...) are read at their own argument', () => {
    expect([objectArg('kfree'), objectArg('kmem_cache_free'), objectArg('dma_free_attrs'), objectArg('free_netdev'), objectArg('my_release')]).toEqual([
      1, 2, 3, 1, 1,
    ]);
    expect(familyOf('kstrdup')?.family.what).toBe('slab objects (kmalloc, kmem_cache)');
  });
});

describe('pairs that cannot pair', () => {
  test('an allocator with the releaser of another family, or the two the wrong way round, is named with the right pair', () => {
    expect(pairMismatch({ alloc: 'vmalloc', free: 'kfree' })).toBe(
      'vmalloc:kfree: kfree releases slab objects (kmalloc, kmem_cache), vmalloc allocates vmalloc areas, which vfree releases: write vmalloc:vfree',
    );
    expect(pairMismatch({ alloc: 'free_netdev', free: 'alloc_netdev_mqs' })).toMatch(/free_netdev releases objects/);
    expect(pairMismatch({ alloc: 'kmalloc', free: 'kvfree' })).toBeNull();
    expect(pairMismatch({ alloc: 'register_netdev', free: 'unregister_netdev' })).toBeNull();
  });
});

describe('untrackedAllocators', () => {
  it('names the allocators a module imports that the named pairs leave out, as traced (kmalloc_trace is kmalloc)', () => {
    const imports = ['kmalloc_trace', 'kmem_cache_alloc', 'kfree', 'vzalloc', 'misc_register'];
    expect(untrackedAllocators([{ alloc: 'kmalloc', free: 'kfree' }], imports)).toEqual(['kmem_cache_alloc', 'vzalloc']);
    expect(
      untrackedAllocators(
        [
          { alloc: 'kmalloc', free: 'kfree', moreAllocs: ['kmem_cache_alloc'] },
          { alloc: 'vzalloc', free: 'vfree' },
        ],
        imports,
      ),
    ).toEqual([]);
  });
});
