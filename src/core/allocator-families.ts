// The kernel's allocator families: which functions hand out an object, which give it back, and
// where the object is in each call. `track: auto` picks the families a module's imports use;
// explicit pairs read the same table for the releaser's argument and to refuse mixed-up pairs.
import type { PairSpec } from './model.js';

/** Where a releaser's object is: its first, second or third argument (x86-64: %di, %si, %dx). */
type ObjectArg = 1 | 2 | 3;

interface AllocatorFamily {
  /** What the family is, in the report: `slab objects`, `vmalloc areas`. */
  what: string;
  /** In the order a pair is named by: the first the module imports becomes the pair's allocator. */
  allocators: string[];
  releasers: { name: string; arg: ObjectArg }[];
  /** Releasers traced whether or not the module imports them: whoever frees an object releases it. */
  alwaysReleasers: string[];
  /**
   * How the objects are paired: `kmem` by the kmem tracepoints (allocator names that are
   * tracepoints) and probes on the rest; `object` by the returned pointer; `counted` by call
   * counts only, when the allocator returns a status and the object is not a pointer.
   */
  pairing: 'kmem' | 'object' | 'counted';
  /** Imports that mean the family is used, traced through another name (a tracepoint). */
  via?: Record<string, string>;
}

/** kmem tracepoints that record an allocation with its call site (`_node` variants follow them). */
const SLAB_ALLOC_EVENTS = ['kmalloc', 'kmem_cache_alloc'];
const SLAB_FREE_EVENTS = ['kfree', 'kmem_cache_free'];

const FAMILIES: AllocatorFamily[] = [
  {
    what: 'slab objects (kmalloc, kmem_cache)',
    // kmalloc and kmem_cache_alloc are tracepoints, every kmalloc flavour ends in one of them with the
    // caller as call site; kasprintf and kvmalloc allocate one call further down, so they are probed
    // (kvmalloc_node is __kvmalloc_node_noprof from 6.10, where allocation profiling renamed the allocators).
    allocators: ['kmalloc', 'kmem_cache_alloc', 'kasprintf', 'kvasprintf', 'kvmalloc_node', '__kvmalloc_node_noprof'],
    releasers: [
      { name: 'kfree', arg: 1 },
      { name: 'kmem_cache_free', arg: 2 },
      { name: 'kvfree', arg: 1 },
    ],
    alwaysReleasers: ['kfree'],
    pairing: 'kmem',
    // What modules import, by kernel: 5.10 (kmem_cache_alloc_trace, kmalloc_order_trace), 6.1
    // (kmalloc_trace, kmalloc_large; 6.1 to 6.9), 6.12 (the _noprof names of 6.10 on).
    via: {
      kmem_cache_alloc_trace: 'kmalloc',
      kmem_cache_alloc_node_trace: 'kmalloc',
      kmalloc_order_trace: 'kmalloc',
      __kmalloc_cache_noprof: 'kmalloc',
      __kmalloc_cache_node_noprof: 'kmalloc',
      __kmalloc_noprof: 'kmalloc',
      __kmalloc_node_noprof: 'kmalloc',
      __kmalloc_large_noprof: 'kmalloc',
      __kmalloc_large_node_noprof: 'kmalloc',
      __kmalloc_node_track_caller_noprof: 'kmalloc',
      krealloc_noprof: 'kmalloc',
      kmemdup_noprof: 'kmalloc',
      kmemdup_array: 'kmalloc',
      kmem_cache_alloc_noprof: 'kmem_cache_alloc',
      kmem_cache_alloc_node_noprof: 'kmem_cache_alloc',
      kmem_cache_alloc_lru_noprof: 'kmem_cache_alloc',
      kmalloc_trace: 'kmalloc',
      kmalloc_node_trace: 'kmalloc',
      __kmalloc: 'kmalloc',
      __kmalloc_node: 'kmalloc',
      kmalloc_large: 'kmalloc',
      kmalloc_large_node: 'kmalloc',
      __kmalloc_track_caller: 'kmalloc',
      __kmalloc_node_track_caller: 'kmalloc',
      krealloc: 'kmalloc',
      kstrdup: 'kmalloc',
      kstrndup: 'kmalloc',
      kstrdup_const: 'kmalloc',
      kmemdup: 'kmalloc',
      kmemdup_nul: 'kmalloc',
      kfree_sensitive: 'kfree',
      kvfree_call_rcu: 'kfree',
      kmem_cache_alloc_lru: 'kmem_cache_alloc',
      kmem_cache_alloc_node: 'kmem_cache_alloc',
    },
  },
  {
    what: 'vmalloc areas',
    allocators: [
      'vmalloc',
      'vzalloc',
      '__vmalloc',
      'vmalloc_node',
      'vzalloc_node',
      'vmalloc_user',
      'vmalloc_32',
      ...['vmalloc', 'vzalloc', '__vmalloc', 'vmalloc_node', 'vzalloc_node', 'vmalloc_user', 'vmalloc_32'].map((n) => `${n}_noprof`),
    ],
    releasers: [{ name: 'vfree', arg: 1 }],
    alwaysReleasers: ['vfree'],
    pairing: 'object',
  },
  {
    what: 'pages (struct page)',
    // 5.10: alloc_pages_current, __alloc_pages_nodemask; 6.12: the _noprof names.
    allocators: ['alloc_pages', '__alloc_pages', 'alloc_pages_current', '__alloc_pages_nodemask', 'alloc_pages_noprof', '__alloc_pages_noprof'],
    releasers: [{ name: '__free_pages', arg: 1 }],
    alwaysReleasers: ['__free_pages'],
    pairing: 'object',
  },
  {
    what: 'pages (by address)',
    allocators: ['__get_free_pages', 'get_zeroed_page', 'get_free_pages_noprof', 'get_zeroed_page_noprof'],
    releasers: [{ name: 'free_pages', arg: 1 }],
    alwaysReleasers: ['free_pages'],
    pairing: 'object',
  },
  {
    what: 'net devices',
    allocators: ['alloc_netdev_mqs', 'alloc_etherdev_mqs'],
    releasers: [{ name: 'free_netdev', arg: 1 }],
    alwaysReleasers: ['free_netdev'],
    pairing: 'object',
  },
  {
    what: 'I/O mappings',
    allocators: ['ioremap', 'ioremap_wc', 'ioremap_cache', 'ioremap_uc', 'ioremap_prot'],
    releasers: [{ name: 'iounmap', arg: 1 }],
    alwaysReleasers: ['iounmap'],
    pairing: 'object',
  },
  {
    what: 'DMA buffers',
    allocators: ['dma_alloc_attrs'],
    releasers: [{ name: 'dma_free_attrs', arg: 3 }],
    alwaysReleasers: ['dma_free_attrs'],
    pairing: 'object',
  },
  {
    what: 'per-CPU areas',
    allocators: ['__alloc_percpu', '__alloc_percpu_gfp', 'pcpu_alloc_noprof'],
    releasers: [{ name: 'free_percpu', arg: 1 }],
    alwaysReleasers: ['free_percpu'],
    pairing: 'object',
  },
  {
    what: 'kernel threads',
    allocators: ['kthread_create_on_node'],
    releasers: [{ name: 'kthread_stop', arg: 1 }],
    alwaysReleasers: ['kthread_stop'],
    pairing: 'object',
  },
  {
    what: 'interrupt handlers',
    allocators: ['request_threaded_irq'],
    releasers: [{ name: 'free_irq', arg: 1 }],
    alwaysReleasers: ['free_irq'],
    pairing: 'counted',
  },
];

/** The family a function belongs to, as allocator or releaser, and its object argument. */
export function familyOf(fn: string): { family: AllocatorFamily; role: 'alloc' | 'free'; arg: ObjectArg } | null {
  for (const family of FAMILIES) {
    if (family.allocators.includes(fn)) return { family, role: 'alloc', arg: 1 };
    const r = family.releasers.find((x) => x.name === fn);
    if (r) return { family, role: 'free', arg: r.arg };
    const via = family.via?.[fn];
    if (via) return familyOf(via);
  }
  return null;
}

/** The allocator a trace follows for `fn` (`kmalloc_trace` -> `kmalloc`), null when fn allocates in no family. */
export function tracedAllocator(fn: string): string | null {
  for (const family of FAMILIES) {
    const traced = family.allocators.includes(fn) ? fn : family.via?.[fn];
    if (traced !== undefined && family.allocators.includes(traced)) return traced;
  }
  return null;
}

/** The argument of a releaser that holds the object (the first for names the table does not know). */
export function objectArg(fn: string): ObjectArg {
  const f = familyOf(fn);
  return f?.role === 'free' ? f.arg : 1;
}

/** Allocators whose return value is a status, not the object: paired by call counts. */
export function isCountedAllocator(fn: string): boolean {
  const f = familyOf(fn);
  return f?.role === 'alloc' && f.family.pairing === 'counted';
}

/** Every allocator of the pair, then every releaser. */
export function allocatorsOf(p: PairSpec): string[] {
  return [p.alloc, ...(p.moreAllocs ?? [])];
}

export function releasersOf(p: PairSpec): string[] {
  return [p.free, ...(p.moreFrees ?? [])];
}

/** A pair is traced with the kmem tracepoints when its allocator is one of them. */
export function isKmemPair(p: PairSpec): boolean {
  return SLAB_ALLOC_EVENTS.includes(p.alloc);
}

/** Names of a kmem pair that are tracepoints (the rest are probed). */
export function isSlabEvent(fn: string): boolean {
  return SLAB_ALLOC_EVENTS.includes(fn) || SLAB_FREE_EVENTS.includes(fn);
}

/**
 * Why ALLOC:FREE cannot pair objects, or null: both names are known and belong to different
 * families (kmalloc:free_netdev), or a name stands on the wrong side.
 */
export function pairMismatch(p: PairSpec): string | null {
  const a = familyOf(p.alloc);
  const f = familyOf(p.free);
  const name = `${p.alloc}:${p.free}`;
  if (a?.role === 'free') return `${name}: ${p.alloc} releases objects, it does not allocate them: write the allocator first`;
  if (f?.role === 'alloc') return `${name}: ${p.free} allocates objects, it does not release them: write ALLOC:FREE`;
  if (a && f && a.family !== f.family) {
    const right = a.family.releasers.map((r) => r.name).join(' or ');
    return (
      `${name}: ${p.free} releases ${f.family.what}, ${p.alloc} allocates ${a.family.what}, which ${right} ` +
      `release${a.family.releasers.length > 1 ? '' : 's'}: write ${p.alloc}:${a.family.releasers[0].name}`
    );
  }
  return null;
}

interface AutoTrack {
  pairs: PairSpec[];
  /** One line a family found: `slab objects (kmalloc, kmem_cache): kmalloc_trace, kfree -> kmalloc:kfree`. */
  found: string[];
}

/**
 * track: auto: the slab pair (kmem tracepoints, always), then the pairs for the other families
 * the module's undefined symbols (`nm -u`) use. Each
 * pair's allocators are the family's functions the module calls (a tracepoint standing for the
 * flavours that end in it); its releasers are those it calls plus the ones anybody may free with.
 */
export function autoTrack(imports: Iterable<string>): AutoTrack {
  const used = new Set(imports);
  const pairs: PairSpec[] = [];
  const found: string[] = [];
  for (const family of FAMILIES) {
    const seen: string[] = [];
    const allocs = new Set<string>();
    const frees = new Set<string>();
    for (const name of used) {
      const traced = family.allocators.includes(name) || family.releasers.some((r) => r.name === name) ? name : family.via?.[name];
      if (!traced) continue;
      seen.push(name);
      if (family.allocators.includes(traced)) allocs.add(traced);
      else frees.add(traced);
    }
    // The slab allocator is traced whatever the module imports: kernel APIs (kasprintf, device
    // and network code) allocate for it, and the kmem tracepoints see every such object.
    if (family.pairing === 'kmem') allocs.add(SLAB_ALLOC_EVENTS[0]);
    if (allocs.size === 0) continue;
    const allocators = family.allocators.filter((a) => allocs.has(a));
    const releasers = family.releasers.map((r) => r.name).filter((r) => frees.has(r) || family.alwaysReleasers.includes(r));
    // A module that kvmallocs frees with kvfree; whoever frees a kvmalloc'ed object may too.
    if ((allocs.has('kvmalloc_node') || allocs.has('__kvmalloc_node_noprof')) && !releasers.includes('kvfree')) releasers.push('kvfree');
    const pair: PairSpec = { alloc: allocators[0], free: releasers[0], auto: true };
    if (allocators.length > 1) pair.moreAllocs = allocators.slice(1);
    if (releasers.length > 1) pair.moreFrees = releasers.slice(1);
    pairs.push(pair);
    const names = seen.length > 0 ? seen.sort().join(', ') : 'none imported, traced whatever the module imports';
    found.push(`${family.what}: ${names} -> ${pair.alloc}:${pair.free}`);
  }
  return { pairs, found };
}

/**
 * With named pairs: the allocators the module imports (as traced: kmem_cache_alloc_trace counts
 * as kmalloc) that no pair names: `kmem_cache_alloc`, `vzalloc`.
 */
export function untrackedAllocators(track: PairSpec[], imports: Iterable<string>): string[] {
  const named = new Set(track.flatMap((p) => allocatorsOf(p)));
  const out = new Set<string>();
  for (const name of imports) {
    const traced = tracedAllocator(name);
    if (traced !== null && !named.has(traced)) out.add(traced);
  }
  return [...out].sort();
}
