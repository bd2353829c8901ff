// What the kernel side writes into the trace and the analysis reads back: the cycle and phase
// markers, and the kvfree_call_rcu probe whose arguments name the object a deferred free releases.

export type Marker = { cycle: number; edge: 'start' | 'end' } | { phase: 'load' | 'unload' };

/** The text written to trace_marker: `alloc-balance cycle=3 start`, `alloc-balance phase=unload`. */
export function markerText(m: Marker): string {
  return 'phase' in m ? `alloc-balance phase=${m.phase}` : `alloc-balance cycle=${m.cycle} ${m.edge}`;
}

const MARKER = /^(?:alloc-balance\s+)?(?:cycle[= ]?(\d+)\s+(start|end)|phase=(\w+))\s*$/;

/** A marker as the trace prints it (also the older `cycle 3 start`); null for any other text. */
export function parseMarker(text: string): Marker | { phase: string } | null {
  const m = MARKER.exec(text.trim());
  if (!m) return null;
  if (m[3] !== undefined) return { phase: m[3] } as Marker | { phase: string };
  return { cycle: Number(m[1]), edge: m[2] as 'start' | 'end' };
}

/**
 * kfree_rcu()/kvfree_rcu() queue objects through this function; the RCU worker frees them seconds
 * later in bulk, where no kmem:kfree event is emitted. For kmem pairs the queueing is the release.
 */
export const DEFERRED_FREE = 'kvfree_call_rcu';

const KERNEL_SPACE = 0xffff_0000_0000_0000n;
const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;
const U64 = (1n << 64n) - 1n;

/**
 * How a kernel before 5.12 booted with debug_boot_weak_hash prints a pointer in trace output:
 * hash_long(ptr, 32) (include/linux/hash.h), as 16 hex digits. Such a kernel has no
 * no_hash_pointers; its kprobes still read raw addresses, which this maps onto the printed ones.
 */
export function weakPointerHash(address: string): string {
  if (!address.startsWith('0x')) return '';
  const hash = ((BigInt(address) * GOLDEN_RATIO_64) & U64) >> 32n;
  return `0x${hash.toString(16)}`;
}

/**
 * A kmem pointer printed hashed (`00000000a3f1c2d4`: 16 digits, no 0x, the top half zero) rather
 * than as an address. NULL and ZERO_SIZE_PTR (0x10) are printed as they are on every kernel.
 */
export function isHashedPointer(ptr: string): boolean {
  return ptr.length === 16 && ptr.startsWith('00000000') && /^[0-9a-f]+$/.test(ptr) && Number.parseInt(ptr.slice(8), 16) >= 0x10000;
}

/**
 * The object kvfree_call_rcu(head, func) releases. Up to 6.2 `func` is the offset of the rcu_head
 * inside the object (head points at it), or the object itself when head is NULL; from 6.3 the
 * second argument is always the object. A kernel address there is the object, a small value an offset.
 */
export function deferredObject(args: string): string {
  const head = /(?:^|\s)head=(0x[0-9a-fA-F]+)/.exec(args)?.[1];
  const func = /(?:^|\s)func=(0x[0-9a-fA-F]+)/.exec(args)?.[1];
  if (!head || !func) return '';
  const h = BigInt(head);
  const f = BigInt(func);
  const object = f >= KERNEL_SPACE || h === 0n ? f : h - f;
  return object === 0n ? '' : `0x${object.toString(16)}`;
}
