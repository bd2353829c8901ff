// The allocators the error-path sweep's helper (kmod/failsite) can fail: every name a module
// imports for the common allocations on each kernel line must be in its table, or a sweep "reaches"
// those call sites without ever failing one (5.10's and 6.12's kmalloc were missing once).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { familyOf } from '../../src/core/allocator-families.js';

const source = readFileSync(join(import.meta.dirname, '../../kmod/failsite/ab_failsite.c'), 'utf8');
const known = new Set([...source.matchAll(/\{ "(\w+)", R_\w+ \}/g)].map((m) => m[1]));

/** What `kmalloc(constant)`, `kzalloc`, `kcalloc`, `kmem_cache_alloc`, `vzalloc`, `__get_free_pages` and `alloc_pages` import, by kernel. */
const IMPORTED = {
  '5.10': ['kmem_cache_alloc_trace', '__kmalloc', 'kmalloc_order_trace', 'kmem_cache_alloc', 'vzalloc', '__get_free_pages', 'alloc_pages_current', 'kstrdup'],
  '6.1': ['kmalloc_trace', '__kmalloc', 'kmalloc_large', 'kmem_cache_alloc', 'vzalloc', '__get_free_pages', 'kstrdup'],
  '6.12': [
    '__kmalloc_cache_noprof',
    '__kmalloc_noprof',
    '__kmalloc_large_noprof',
    'kmem_cache_alloc_noprof',
    'vzalloc_noprof',
    'get_free_pages_noprof',
    'alloc_pages_noprof',
    'kstrdup',
  ],
};

describe("the failsite helper's allocators", () => {
  for (const [line, names] of Object.entries(IMPORTED)) {
    it(`fails what a module calls on ${line}`, () => {
      expect(names.filter((n) => !known.has(n))).toEqual([]);
    });
  }

  it('holds only names the allocator families know as allocators', () => {
    expect(known.size).toBeGreaterThan(60);
    expect([...known].filter((n) => familyOf(n)?.role !== 'alloc')).toEqual([]);
  });
});
