// Memory that kernel APIs allocate for the module (sk_buffs, devices, kobjects, names, devres):
// the slab objects whose allocation had a frame of the module's code on its stack while the
// call site was the kernel's. The kernel side reads them from the apiwatch helper module
// (kmod/apiwatch/ab_apiwatch.c) after loading, after each cycle and after unload; this turns those
// snapshots into one pair per kernel function the module called (alloc_skb's `__alloc_skb`,
// `kobject_create_and_add`: every object allocated inside that call), counted at the module's
// own call sites and judged by the same leak rule as the traced pairs.
import { tracedAllocator } from './allocator-families.js';
import type { CallerCounts, CycleCounts, OutstandingObject, PairResult } from './model.js';
import type { ModuleMap } from './module-map.js';
import { snapshotFiles, type Snapshots } from './snapshot-files.js';
import { snapshotPair } from './snapshot-pair.js';

/** The file of each snapshot: `apiwatch-load.txt`, `apiwatch-cycle-3.txt`, `apiwatch-end.txt`. */
export const API_WATCH_FILE = snapshotFiles('apiwatch');

/** The release named beside the allocating function in the pair's name, by the event that allocated. */
const RELEASER = { kmalloc: 'kfree', cache: 'kmem_cache_free' } as const;

interface ApiWatchSite {
  /** The module's call site (a return address in its text), hex without 0x. */
  site: string;
  /** The kernel function the module called, inside which the object was allocated: `__alloc_skb`. */
  fn: string;
  kind: keyof typeof RELEASER;
  allocs: number;
  frees: number;
}

interface ApiWatchObject {
  address: string;
  site: string;
  fn: string;
  bytes: number;
}

interface ApiWatchSnapshot {
  /** Objects the helper could not remember (its table was full): the counts are a floor. */
  overflow: number;
  sites: ApiWatchSite[];
  objects: ApiWatchObject[];
}

/** /proc/ab_apiwatch as the helper prints it; lines it does not know are an error (a helper of another version). */
export function parseApiWatch(text: string): ApiWatchSnapshot {
  const snap: ApiWatchSnapshot = { overflow: 0, sites: [], objects: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    // The function comes last: a module's symbol prints as `name [module]`.
    const site = /^site ([0-9a-f]+) (kmalloc|cache) allocs (\d+) frees (\d+) (\S+)/.exec(line);
    const object = /^object ([0-9a-f]+) ([0-9a-f]+) (\d+) (\S+)/.exec(line);
    const overflow = /^overflow (\d+)$/.exec(line);
    if (overflow) snap.overflow = Number(overflow[1]);
    else if (site) snap.sites.push({ site: site[1], kind: site[2] as ApiWatchSite['kind'], allocs: Number(site[3]), frees: Number(site[4]), fn: site[5] });
    else if (object) snap.objects.push({ address: object[1], site: object[2], bytes: Number(object[3]), fn: object[4] });
    else throw new Error(`not a line of the apiwatch helper: "${line}"`);
  }
  return snap;
}

export type ApiMemoryInput = Snapshots<ApiWatchSnapshot>;

/**
 * One pair per kernel function the module called (`__alloc_skb:kfree/kmem_cache_free`), its callers the
 * module's call sites. Counts are cumulative in the helper: a cycle's allocs and frees are the
 * difference to the snapshot before it; outstanding after a cycle is what the snapshot holds.
 */
export function apiMemoryPairs(input: ApiMemoryInput, map: ModuleMap, leftOut?: ReadonlySet<string>): PairResult[] {
  const rowOf = rowNamer(leftOut);
  const rename = (snap: ApiWatchSnapshot): ApiWatchSnapshot => ({
    overflow: snap.overflow,
    sites: snap.sites.flatMap((s) => {
      const fn = rowOf(s.fn);
      return fn === null ? [] : [{ ...s, fn }];
    }),
    objects: snap.objects.flatMap((o) => {
      const fn = rowOf(o.fn);
      return fn === null ? [] : [{ ...o, fn }];
    }),
  });
  const snapshots = [input.afterLoad, ...input.afterCycles].map(rename);
  const last = input.end ? rename(input.end) : snapshots[snapshots.length - 1];
  const resolved = new Map<string, string>();
  const callerOf = (site: string) => {
    let c = resolved.get(site);
    if (c === undefined) {
      c = map.resolve(`0x${site}`).caller;
      resolved.set(site, c);
    }
    return c;
  };
  const fns = new Map<string, Set<ApiWatchSite['kind']>>();
  for (const snap of [...snapshots, last]) for (const s of snap.sites) fns.set(s.fn, (fns.get(s.fn) ?? new Set()).add(s.kind));
  const pairs = [...fns].map(([fn, kinds]) => functionPair(fn, kinds, { snapshots, last, callerOf, leftOut }));
  return pairs.sort((a, b) => b.module.outstanding - a.module.outstanding || a.alloc.localeCompare(b.alloc));
}

interface FunctionSnapshots {
  /** After load, then after each cycle. */
  snapshots: ApiWatchSnapshot[];
  /** After unload (else the last cycle's). */
  last: ApiWatchSnapshot;
  callerOf: (site: string) => string;
  leftOut?: ReadonlySet<string>;
}

/** The row of one kernel function the module called: its counts per cycle and per call site of the module, and the objects it still holds. */
function functionPair(fn: string, kinds: Set<ApiWatchSite['kind']>, o: FunctionSnapshots): PairResult {
  const { snapshots, last, callerOf } = o;
  const siteKeys = new Set<string>();
  for (const snap of [...snapshots, last]) for (const s of snap.sites) if (s.fn === fn) siteKeys.add(s.site);
  const count = (snap: ApiWatchSnapshot, site?: string) => {
    let allocs = 0;
    let frees = 0;
    for (const s of snap.sites) {
      if (s.fn !== fn || (site !== undefined && s.site !== site)) continue;
      allocs += s.allocs;
      frees += s.frees;
    }
    const live = snap.objects.filter((x) => x.fn === fn && (site === undefined || x.site === site)).length;
    return { allocs, frees, live };
  };
  const cyclesFor = (site?: string): CycleCounts[] => {
    const out: CycleCounts[] = [];
    let before = { allocs: 0, frees: 0 };
    snapshots.forEach((snap, cycle) => {
      const c = count(snap, site);
      const allocs = c.allocs - before.allocs;
      const frees = c.frees - before.frees;
      out.push({ cycle, allocs, frees, outstanding: allocs - frees, outstandingAfter: c.live });
      before = c;
    });
    return out;
  };
  const total = count(last);
  const callers: CallerCounts[] = [...siteKeys]
    .map((site) => {
      const c = count(last, site);
      return { caller: callerOf(site), inModule: true, allocs: c.allocs, frees: c.frees, outstanding: c.live, perCycle: cyclesFor(site) };
    })
    .sort((x, y) => y.outstanding - x.outstanding || y.allocs - x.allocs || x.caller.localeCompare(y.caller));
  // The cycle an object was allocated in: the first snapshot that holds it.
  const firstSeen = new Map<string, number>();
  snapshots.forEach((snap, cycle) => {
    for (const x of snap.objects) if (x.fn === fn && !firstSeen.has(x.address)) firstSeen.set(x.address, cycle);
  });
  const objects: OutstandingObject[] = last.objects
    .filter((x) => x.fn === fn)
    .map((x) => ({
      address: `0x${x.address}`,
      caller: callerOf(x.site),
      inModule: true,
      cycle: firstSeen.get(x.address) ?? snapshots.length - 1,
      stack: [o.leftOut ? fn : `${fn} (kernel API)`, callerOf(x.site)],
      ...(x.bytes > 0 ? { bytes: x.bytes } : {}),
    }));
  return snapshotPair({
    alloc: fn,
    // An sk_buff is a cache object and a kmalloc'ed buffer: both releases are named.
    free: [...kinds]
      .map((k) => RELEASER[k])
      .sort()
      .join('/'),
    method: 'kmem',
    total: { allocs: total.allocs, frees: total.frees, outstanding: total.live },
    cycles: cyclesFor(),
    callers,
    objects,
    viaApi: !o.leftOut,
  });
}

/**
 * The row an object is counted in, by the function the module called (null: not a row here).
 * With track: auto (no `leftOut`), a kernel API; an allocator of a family the trace follows is
 * counted there, as its object (alloc_netdev_mqs, kvmalloc_node). With named pairs, the allocators
 * they leave out (`leftOut`, as traced: kmalloc_trace is kmalloc), and nothing else.
 */
function rowNamer(leftOut?: ReadonlySet<string>): (fn: string) => string | null {
  return (fn) => {
    const allocator = tracedAllocator(fn);
    if (!leftOut) return allocator === null ? fn : null;
    return allocator !== null && leftOut.has(allocator) ? allocator : null;
  };
}

/** What the snapshots say about themselves: a full table makes every count a floor. */
export function apiMemoryProblems(input: ApiMemoryInput): string[] {
  const overflow = Math.max(input.afterLoad.overflow, ...input.afterCycles.map((s) => s.overflow), input.end?.overflow ?? 0);
  return overflow > 0 ? [`memory from kernel APIs: ${overflow} objects were not remembered (the helper's table was full): the counts are a floor`] : [];
}
