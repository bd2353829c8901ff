// The module's vmalloc areas and I/O mappings as /proc/vmallocinfo lists them, read after load,
// after each cycle and after unload: the witness for the allocators a named track leaves out
// (vzalloc, ioremap, ...), which the apiwatch helper cannot count (it sees slab objects only).
// Each area's line names the code that asked for it (`leak_shapes_open+0x2d/0x1d0 [leak_shapes]`,
// a raw address once the module is gone); an area is the same area while its range and caller
// are. What it cannot see: an area made and given back within one cycle.
import { familyOf } from './allocator-families.js';
import type { CallerCounts, CycleCounts, OutstandingObject, PairResult } from './model.js';
import type { ModuleMap } from './module-map.js';
import { snapshotFiles, type Snapshots } from './snapshot-files.js';
import { snapshotPair } from './snapshot-pair.js';

/** The file of each snapshot: `vmallocinfo-load.txt`, `vmallocinfo-cycle-3.txt`, `vmallocinfo-end.txt`. */
export const VMALLOC_FILE = snapshotFiles('vmallocinfo');

interface VmallocArea {
  /** `start-end`, hex without 0x. */
  range: string;
  start: string;
  bytes: number;
  /** The caller as printed: `func+0x2d/0x1d0 [mod]`, a raw address, or '' when the line names none. */
  caller: string;
  /** The module named in brackets after the caller, '' when none. */
  module: string;
  flags: string[];
}

const LINE = /^0x([0-9a-f]+)-0x([0-9a-f]+)\s+(\d+)\s*(.*)$/;

/** One line of /proc/vmallocinfo; null for a line that is no area. */
function parseArea(line: string): VmallocArea | null {
  const m = LINE.exec(line.trim());
  if (!m) return null;
  const words = m[4].split(/\s+/).filter((w) => w !== '');
  let caller = '';
  let module = '';
  // The caller comes first when there is one; key=value fields and flags follow.
  if (words.length > 0 && !words[0].includes('=') && (words[0].includes('+') || words[0].startsWith('0x'))) {
    caller = words.shift() as string;
    if (words[0]?.startsWith('[') && words[0].endsWith(']')) module = (words.shift() as string).slice(1, -1);
  }
  return { range: `${m[1]}-${m[2]}`, start: m[1], bytes: Number(m[3]), caller, module, flags: words.filter((w) => !w.includes('=')) };
}

/** /proc/vmallocinfo's areas (other lines, if any, are left out). */
export function parseVmallocinfo(text: string): VmallocArea[] {
  return text.split('\n').flatMap((line) => parseArea(line) ?? []);
}

/**
 * The lines to keep of a snapshot: the areas the module's code asked for (its name in brackets, as
 * the kernel knows it: `-` written `_`), and, once it is unloaded and its callers print as raw
 * addresses, the areas seen as its before. `seen` gathers the ranges across a run's snapshots.
 */
export function moduleAreaLines(text: string, module: string, seen: Set<string>): string {
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    const area = parseArea(line);
    if (!area) continue;
    if (area.module === module) seen.add(area.range);
    else if (!seen.has(area.range)) continue;
    kept.push(line.trim());
  }
  return kept.length > 0 ? `${kept.join('\n')}\n` : '';
}

/** The snapshots' text, as the kernel side kept it (moduleAreaLines). */
export type VmallocInput = Snapshots<string>;

/** The families vmallocinfo can witness, by the flag their areas carry. */
const WITNESSED = [
  { flag: 'vmalloc', what: 'vmalloc areas' },
  { flag: 'ioremap', what: 'I/O mappings' },
] as const;

/** The left-out allocators vmallocinfo can count for (the rest are the apiwatch helper's, or nobody's). */
export function vmallocWitnessed(leftOut: Iterable<string>): string[] {
  return [...leftOut].filter((a) => WITNESSED.some((w) => familyOf(a)?.family.what === w.what));
}

/**
 * One pair per witnessed family the named track leaves out (`vzalloc:vfree`, `ioremap:iounmap`),
 * counted from the module's areas in each snapshot and judged by the leak rule like a traced pair.
 */
export function vmallocAreaPairs(input: VmallocInput, map: ModuleMap, leftOut: Iterable<string>): PairResult[] {
  const left = [...leftOut];
  const pairs: PairResult[] = [];
  for (const w of WITNESSED) {
    const allocators = left.filter((a) => familyOf(a)?.family.what === w.what).sort();
    if (allocators.length === 0) continue;
    const free = familyOf(allocators[0])?.family.releasers[0]?.name ?? '';
    const own = (text: string, afterInit: boolean) =>
      parseVmallocinfo(text)
        .filter((a) => a.flags.includes(w.flag) && a.caller !== '')
        .flatMap((a) => {
          const r = map.resolve(a.caller, afterInit);
          return r.inModule === false ? [] : [{ ...a, key: `${a.range} ${r.caller}`, site: r.caller }];
        });
    const snapshots = [own(input.afterLoad, false), ...input.afterCycles.map((t) => own(t, true))];
    const last = input.end !== undefined ? own(input.end, true) : snapshots[snapshots.length - 1];
    pairs.push(witnessPair(allocators.join('/'), free, snapshots, last));
  }
  return pairs;
}

type OwnArea = VmallocArea & { key: string; site: string };

function witnessPair(alloc: string, free: string, snapshots: OwnArea[][], last: OwnArea[]): PairResult {
  // Every area seen, by key: the snapshot it was first in, and its call site.
  const seen = new Map<string, { cycle: number; site: string }>();
  snapshots.forEach((snap, cycle) => {
    for (const a of snap) if (!seen.has(a.key)) seen.set(a.key, { cycle, site: a.site });
  });
  for (const a of last) if (!seen.has(a.key)) seen.set(a.key, { cycle: snapshots.length - 1, site: a.site });
  const cyclesFor = (site?: string): CycleCounts[] => {
    let before = new Set<string>();
    return snapshots.map((snap, cycle) => {
      const now = new Set(snap.filter((a) => site === undefined || a.site === site).map((a) => a.key));
      const allocs = [...now].filter((k) => !before.has(k)).length;
      const frees = [...before].filter((k) => !now.has(k)).length;
      before = now;
      return { cycle, allocs, frees, outstanding: allocs - frees, outstandingAfter: now.size };
    });
  };
  const countsOf = (site?: string) => {
    const allocs = [...seen.values()].filter((s) => site === undefined || s.site === site).length;
    const live = last.filter((a) => site === undefined || a.site === site).length;
    return { allocs, frees: allocs - live, outstanding: live };
  };
  const cycles = cyclesFor();
  const total = countsOf();
  const callers: CallerCounts[] = [...new Set([...seen.values()].map((s) => s.site))]
    .map((site) => ({ caller: site, inModule: true, ...countsOf(site), perCycle: cyclesFor(site) }))
    .sort((x, y) => y.outstanding - x.outstanding || y.allocs - x.allocs || x.caller.localeCompare(y.caller));
  const objects: OutstandingObject[] = last.map((a) => ({
    address: `0x${a.start}`,
    caller: a.site,
    inModule: true,
    cycle: seen.get(a.key)?.cycle ?? snapshots.length - 1,
    stack: [`${alloc} (/proc/vmallocinfo)`, a.site],
    bytes: a.bytes,
  }));
  return snapshotPair({ alloc, free, method: 'vmallocinfo', total, cycles, callers, objects, viaApi: false });
}
