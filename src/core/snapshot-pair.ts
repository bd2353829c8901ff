// A pair counted from snapshots of what the module holds (the apiwatch helper's objects, the
// module's lines of /proc/vmallocinfo) rather than paired from the trace: the same row as a traced
// pair, its rate judged by the same leak rule from what each snapshot held after a cycle.
import { judgeGrowth } from './leak-rate.js';
import type { CallerCounts, Counts, CycleCounts, OutstandingObject, PairResult, PairingMethod } from './model.js';

export interface SnapshotCounts {
  alloc: string;
  free: string;
  method: PairingMethod;
  /** Over the whole run; `outstanding` is what the last snapshot (after unload, when there is one) holds. */
  total: Counts;
  /** After load (cycle 0), then after each cycle. */
  cycles: CycleCounts[];
  callers: CallerCounts[];
  objects: OutstandingObject[];
  /** The memory was allocated for the module by a kernel API (track: auto); else an allocator a named track leaves out. */
  viaApi: boolean;
}

export function snapshotPair(s: SnapshotCounts): PairResult {
  const growth = judgeGrowth(
    s.cycles.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter),
    s.total.outstanding,
  );
  return {
    alloc: s.alloc,
    free: s.free,
    method: s.method,
    ...s.total,
    module: s.total,
    callers: s.callers,
    cycles: s.cycles,
    moduleCycles: s.cycles,
    leakedPerCycle: growth.rate,
    growth,
    unmatchedFrees: 0,
    objects: s.objects,
    // Found, not asked for: a side that never had such memory (a function it never called, areas
    // that never outlived a cycle) simply has nothing in the row, which is no unmeasured pair.
    auto: true,
    ...(s.viaApi ? { viaApi: true } : { untracked: true }),
  };
}
