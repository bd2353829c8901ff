// Which slab cache a kmalloc'd object lives in, from what the kmem:kmalloc event says of it:
// the size the allocator rounded it to (bytes_alloc) and whether it was charged to a memory
// cgroup (accounted=true -> the kmalloc-cg-N caches).

/** kmalloc cache sizes of x86_64 (KMALLOC_MIN_SIZE 8, up to two pages). */
const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

/** `kmalloc-64`, `kmalloc-cg-4k`; '' for a size no kmalloc cache holds (page allocator). */
export function kmallocCache(bytesAlloc: number, accounted: boolean): string {
  if (!KMALLOC_SIZES.includes(bytesAlloc)) return '';
  const size = bytesAlloc >= 1024 ? `${bytesAlloc / 1024}k` : String(bytesAlloc);
  return `kmalloc-${accounted ? 'cg-' : ''}${size}`;
}
