// The analysis as the report reads it, assembled from the ledgers once the trace has been read:
// per pair the module's and everyone's counts per cycle and per call site, the leak rate, the
// objects still outstanding, and whether the trace can be trusted.
import type { AnalysisResult, CallerCounts, CycleCounts, OutstandingObject, PairResult } from './model.js';
import { pairName } from './pair-spec.js';
import { allocatorsOf } from './allocator-families.js';
import type { CallerAcc } from './ledger.js';
import { judgeGrowth } from './leak-rate.js';
import type { CycleMarks } from './cycle-marks.js';
import type { PairState } from './traced-functions.js';
import { problemText } from './analysis-problems.js';

interface TraceTotals {
  marks: CycleMarks;
  /** entries-written over entries-in-buffer in the header. */
  headerLost: number;
  /** Sum of the `[LOST n EVENTS]` notes. */
  markerLost: number;
  /** Overruns and drops in per_cpu/cpuN/stats. */
  statsLost: number;
  probeMisses: number;
  /** Problems found while reading; the assembly adds its own. */
  problems: string[];
  /** The module's symbols are known, so call sites outside it can be told apart. */
  moduleKnown: boolean;
  maxObjects: number;
}

function sum(accs: CallerAcc[]): { allocs: number; frees: number; outstanding: number } {
  let allocs = 0;
  let frees = 0;
  for (const a of accs) {
    allocs += a.allocs;
    frees += a.frees;
  }
  return { allocs, frees, outstanding: allocs - frees };
}

/** The cycles as the counts are kept: by marked cycle (0 is the load, before the first), or the whole trace as one. */
interface CycleView {
  marked: boolean;
  cycles: number;
  /** The cycle a count kept under `c` is reported as. */
  index(c: number): number;
  /** The counts of `accs` for each cycle reported. */
  cyclesOf(accs: CallerAcc[]): CycleCounts[];
}

function cycleView(marks: CycleMarks): CycleView {
  const marked = marks.marked;
  // Without markers the whole trace is the one workload cycle.
  const index = (c: number): number => (marked ? c : 1);
  const cycleIds = marked ? Array.from({ length: marks.starts + 1 }, (_, k) => k) : [1];
  const sourceOf = (c: number): number => (marked ? c : 0);
  const cyclesOf = (accs: CallerAcc[]): CycleCounts[] =>
    cycleIds.map((c) => {
      const s = sourceOf(c);
      let allocs = 0;
      let frees = 0;
      let after = 0;
      for (const a of accs) {
        allocs += a.allocsIn[s] ?? 0;
        frees += a.freesIn[s] ?? 0;
        after += a.after[s] ?? 0;
      }
      return { cycle: index(c), allocs, frees, outstanding: allocs - frees, outstandingAfter: after };
    });
  return { marked, cycles: marked ? marks.starts : 1, index, cyclesOf };
}

/** The events the trace lost, by the buffer (its header, its notes, the per-CPU stats) and by the return probes; each loss a problem. */
function lostEventsOf(t: TraceTotals): { lostEvents: number; bufferLost: number } {
  const { problems, marks } = t;
  const bufferLost = Math.max(t.headerLost + t.markerLost, t.statsLost);
  if (t.headerLost > 0) problems.push(problemText.bufferOverwrote(t.headerLost));
  if (t.markerLost > 0) problems.push(problemText.lostNotes(t.markerLost));
  if (t.statsLost > 0) problems.push(problemText.statsLost(t.statsLost));
  if (marks.missingEnds > 0) problems.push(problemText.missingEnds(marks.missingEnds));
  if (marks.strayEnds > 0) problems.push(problemText.strayEnds(marks.strayEnds));
  return { lostEvents: bufferLost + t.probeMisses, bufferLost };
}

/**
 * The function tracer's count of the allocator's calls against the probes' count of its objects,
 * for a pair paired by address with one allocator (with several one may call another, e.g.
 * alloc_etherdev_mqs and alloc_netdev_mqs, and calls outnumber objects); null otherwise.
 */
function crossCheckOf(p: PairState, name: string): NonNullable<AnalysisResult['crossCheck']>[number] | null {
  if (p.addr.events === 0 || p.fn.events === 0 || allocatorsOf(p.spec).length !== 1) return null;
  // Where the probes keep only the module's call sites (track: auto, kmem events), the calls are counted there too:
  // the kernel's own calls of the allocator (a kthread the kernel starts) are no disagreement.
  const moduleOnly = p.moduleOnly || p.addr.ignored > 0;
  const calls = moduleOnly ? sum([...p.fn.callers.values()].filter((a) => a.inModule !== false)).allocs : p.fn.allocs;
  return { pair: name, kprobeAllocs: p.addr.allocs, functionAllocs: calls, agree: p.addr.allocs === calls };
}

export function assembleResult(states: readonly PairState[], t: TraceTotals): AnalysisResult {
  const { marks, problems } = t;
  const view = cycleView(marks);
  const { lostEvents, bufferLost } = lostEventsOf(t);
  const crossCheck: NonNullable<AnalysisResult['crossCheck']> = [];
  let mismatched = false;
  const pairs: PairResult[] = states.map((p) => {
    const name = pairName(p.spec);
    const check = crossCheckOf(p, name);
    if (check) {
      crossCheck.push(check);
      if (!check.agree) problems.push(problemText.countsDisagree(name, p.spec.alloc, check.functionAllocs, check.kprobeAllocs));
    }
    const result = pairResult(p, name, view, t);
    if (result.moreReleases) mismatched = true;
    return result.pair;
  });
  return {
    complete: lostEvents === 0 && marks.missingEnds === 0 && !mismatched,
    lostEvents,
    ...(lostEvents > 0 ? { lostBy: { buffer: bufferLost, probes: t.probeMisses } } : {}),
    cycles: view.cycles,
    pairs,
    problems,
    ...(crossCheck.length > 0 ? { crossCheck } : {}),
  };
}

/**
 * One pair's result from its ledger (by address when the probes paired any object, else by
 * function calls): its counts, per call site and per cycle, the leak rule's judgement, the objects
 * still outstanding and the bad frees; `moreReleases`: counted by calls, the module released more
 * than it allocated (the trace cannot be trusted).
 */
function pairResult(p: PairState, name: string, view: CycleView, t: TraceTotals): { pair: PairResult; moreReleases: boolean } {
  const { problems } = t;
  const { index, cyclesOf } = view;
  const addressPaired = p.addr.events > 0;
  const ledger = addressPaired ? p.addr : p.fn;
  if (ledger.events === 0) problems.push(problemText.noEvents(name, p.spec.alloc, p.spec.free));
  if (ledger.outsideWithoutStack > 0 && t.moduleKnown) {
    problems.push(problemText.outsideWithoutStack(name, ledger.outsideWithoutStack, ledger.outsideExample));
  }
  const callers = [...ledger.callers.values()];
  const moduleAccs = callers.filter((a) => a.inModule !== false);
  const moduleCycles = cyclesOf(moduleAccs);
  const module = sum(moduleAccs);
  const moreReleases = !addressPaired && module.frees > module.allocs;
  if (moreReleases) problems.push(problemText.moreReleases(name, p.spec.alloc, p.spec.free, module.allocs, module.frees));
  const workload = (cs: CycleCounts[]) => cs.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter);
  const callerRows: CallerCounts[] = callers
    .map((a) => ({
      caller: a.caller,
      inModule: a.inModule,
      allocs: a.allocs,
      frees: a.frees,
      outstanding: a.allocs - a.frees,
      perCycle: cyclesOf([a]),
    }))
    .sort(
      (x, y) =>
        Number(y.inModule === true) - Number(x.inModule === true) || y.outstanding - x.outstanding || y.allocs - x.allocs || x.caller.localeCompare(y.caller),
    );
  const live = [...ledger.shadowed, ...ledger.live.values()];
  live.sort((x, y) => Number(y.acc.inModule !== false) - Number(x.acc.inModule !== false) || x.cycle - y.cycle);
  if (live.length > t.maxObjects) problems.push(problemText.objectsCapped(name, live.length, t.maxObjects));
  const caches = [...ledger.cacheAllocs].map(([cache, allocs]) => ({
    cache,
    allocs,
    outstanding: live.filter((o) => o.cache === cache && o.acc.inModule !== false).length,
  }));
  const objects: OutstandingObject[] = live.slice(0, t.maxObjects).map((o) => ({
    address: o.address,
    caller: o.acc.caller,
    inModule: o.acc.inModule,
    cycle: index(o.cycle),
    ...(o.stack ? { stack: o.stack } : {}),
    ...(o.bytes !== undefined ? { bytes: o.bytes } : {}),
  }));
  const growth = judgeGrowth(view.marked ? workload(moduleCycles) : [], module.outstanding);
  if (ledger.badFrees.length > t.maxObjects) problems.push(problemText.badFreesCapped(name, ledger.badFrees.length, t.maxObjects));
  const pair: PairResult = {
    alloc: p.spec.alloc,
    free: p.spec.free,
    method: ledger.method,
    ...sum(callers),
    module,
    callers: callerRows,
    cycles: cyclesOf(callers),
    moduleCycles,
    leakedPerCycle: growth.rate,
    growth,
    unmatchedFrees: ledger.unmatchedFrees,
    objects,
    ...(ledger.badFrees.length > 0 ? { badFrees: ledger.badFrees.slice(0, t.maxObjects).map((b) => ({ ...b, cycle: index(b.cycle) })) } : {}),
    ...(ledger.method === 'kmem' && ledger.events > 0 ? { caches, ignoredAllocs: ledger.ignored } : p.moduleOnly ? { ignoredAllocs: ledger.ignored } : {}),
    ...(p.spec.auto ? { auto: true } : {}),
  };
  return { pair, moreReleases };
}
