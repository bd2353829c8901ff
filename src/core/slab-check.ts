// The /proc/slabinfo cross-check, narrowed to what each pair's objects can explain: the caches
// they were allocated from when the trace says (kmem events give the size); else the kmalloc
// caches their addresses are aligned to; else the caches that grew by at least the objects left
// outstanding. A symptom to read beside the table, never the verdict: slabinfo counts whole
// slabs and moves for every user of a cache.
import type { PairResult, SlabCheck, SlabDelta } from './model.js';
import { pairName } from './pair-spec.js';
import type { SlabSnapshot } from './slabinfo.js';

/** Caches listed when nothing narrows them down. */
const MAX_GROWN = 3;
const KMALLOC = /^kmalloc-(?:cg-)?(\d+)(k?)$/;
/** Beyond this alignment an address says nothing more about the object's size. */
const MAX_ALIGN = 8192;

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function objectsText(n: number): string {
  return `${n} object${n === 1 ? '' : 's'}`;
}

function deltaOf(cache: string, before: SlabSnapshot, after: SlabSnapshot): SlabDelta {
  const b = before.get(cache) ?? 0;
  const a = after.get(cache) ?? 0;
  return { cache, before: b, after: a, delta: a - b };
}

/** Object size of a kmalloc cache (`kmalloc-cg-4k` -> 4096), 0 for other caches. */
export function kmallocSize(cache: string): number {
  const m = KMALLOC.exec(cache);
  return m ? Number(m[1]) * (m[2] === 'k' ? 1024 : 1) : 0;
}

/** The largest power of two (up to 8192) every address is a multiple of; 0 without addresses. */
export function commonAlignment(addresses: string[]): number {
  let align = 0;
  for (const a of addresses) {
    if (!/^0x[0-9a-f]+$/.test(a)) continue;
    const low = Number(BigInt(a) & BigInt(MAX_ALIGN * 2 - 1)) || MAX_ALIGN * 2;
    const own = Math.min(low & -low, MAX_ALIGN);
    align = align === 0 ? own : Math.min(align, own);
  }
  return align;
}

export function slabCheck(p: PairResult, before: SlabSnapshot, after: SlabSnapshot): SlabCheck {
  const pair = pairName(p);
  const outstanding = Math.max(p.module.outstanding, 0);
  const known = (p.caches ?? []).filter((c) => c.cache !== '').sort((x, y) => y.outstanding - x.outstanding || x.cache.localeCompare(y.cache));
  if (known.length > 0) {
    const caches = known.map((c) => deltaOf(c.cache, before, after));
    const parts = known.map((c, i) => `${c.cache}: ${objectsText(c.outstanding)} of the module outstanding, active objects ${signed(caches[i].delta)}`);
    return { pair, outstanding, basis: 'cache', caches, text: `${pair}: ${parts.join('; ')}` };
  }
  if (outstanding === 0) {
    return { pair, outstanding, basis: 'none', caches: [], text: `${pair}: no module object outstanding, no cache to check` };
  }
  const grown: SlabDelta[] = [];
  for (const cache of after.keys()) {
    const d = deltaOf(cache, before, after);
    if (d.delta >= outstanding) grown.push(d);
  }
  const align = commonAlignment(p.objects.filter((o) => o.inModule !== false).map((o) => o.address));
  if (align >= 64) {
    // The largest kmalloc size the addresses allow: smaller objects rarely all share the boundary.
    const fits = grown.filter((d) => kmallocSize(d.cache) > 0 && kmallocSize(d.cache) <= align);
    const size = Math.max(0, ...fits.map((d) => kmallocSize(d.cache)));
    const caches = fits.filter((d) => kmallocSize(d.cache) === size).sort((x, y) => x.cache.localeCompare(y.cache));
    if (caches.length > 0) {
      return {
        pair,
        outstanding,
        basis: 'alignment',
        caches,
        text:
          `${pair}: ${objectsText(outstanding)} outstanding, on ${align}-byte boundaries: ` +
          `${caches.map((c) => `${c.cache} active objects ${signed(c.delta)}`).join(', ')}`,
      };
    }
  }
  grown.sort((x, y) => Number(kmallocSize(y.cache) > 0) - Number(kmallocSize(x.cache) > 0) || x.delta - y.delta || x.cache.localeCompare(y.cache));
  const shown = grown.slice(0, MAX_GROWN);
  if (shown.length === 0) {
    return {
      pair,
      outstanding,
      basis: 'growth',
      caches: [],
      text:
        `${pair}: ${objectsText(outstanding)} outstanding, but no slab cache grew by ${outstanding} or more active objects ` +
        `(page allocations, or frees of other users)`,
    };
  }
  const more = grown.length > shown.length ? ` (+${grown.length - shown.length} more)` : '';
  return {
    pair,
    outstanding,
    basis: 'growth',
    caches: shown,
    text:
      `${pair}: ${objectsText(outstanding)} outstanding in a cache the trace does not name; caches that grew by at least ${outstanding}: ` +
      `${shown.map((c) => `${c.cache} ${signed(c.delta)}`).join(', ')}${more}`,
  };
}
