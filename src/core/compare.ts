// Base against PR: per pair and call site, objects leaked per cycle on each side, and the bad
// frees of both. The verdict on them is verdict/traces.ts's.
import type {
  AnalysisResult,
  BadFreeRow,
  CallerCounts,
  Comparison,
  ComparisonRow,
  CycleCounts,
  GrowthJudgement,
  PairResult,
  RowStatus,
  SideFigures,
} from './model.js';
import { callerKey } from './frames.js';
import { judgeGrowth, round2 } from './leak-rate.js';
import { pairName } from './pair-spec.js';
import { problemText } from './analysis-problems.js';

/** The caller shown on a pair's total row. */
const MODULE_TOTAL = 'all module call sites';

/** Below this many objects per cycle nothing leaks (rounding of the rate). */
export const EPSILON = 0.005;

function figures(
  counts: { allocs: number; frees: number; outstanding: number },
  cycles: CycleCounts[],
  sideCycles: number,
  judgement?: GrowthJudgement,
): SideFigures {
  const growth = cycles.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter);
  const judged = judgement ?? judgeGrowth(growth, counts.outstanding);
  return {
    allocs: counts.allocs,
    frees: counts.frees,
    outstanding: counts.outstanding,
    cycles: sideCycles,
    leakedPerCycle: judged.rate,
    growth,
    judged,
  };
}

function totalFigures(p: PairResult, sideCycles: number): SideFigures {
  return figures(p.module, p.moduleCycles ?? p.cycles, sideCycles, p.growth);
}

/** Grows through the last cycle, and unload freed it all: a leak while loaded only. */
export function freedAtUnload(f: SideFigures): boolean {
  return f.leakedPerCycle > EPSILON && f.judged?.shape === 'growing' && f.outstanding <= 0;
}

/** The bad frees of both sides by pair, kind and module call site; new ones (not on the base) first. */
export function badFreeRows(base: AnalysisResult, pr: AnalysisResult): BadFreeRow[] {
  const rows = new Map<string, BadFreeRow>();
  for (const [side, a] of [
    ['pr', pr],
    ['base', base],
  ] as const) {
    for (const p of a.pairs) {
      for (const b of p.badFrees ?? []) {
        const caller = callerKey(b.caller);
        const key = `${pairName(p)}\0${b.kind}\0${caller}`;
        let row = rows.get(key);
        if (row === undefined) {
          row = { pair: pairName(p), kind: b.kind, caller, base: 0, pr: 0, isNew: false, example: b };
          rows.set(key, row);
        }
        row[side]++;
        if (b.location && !row.location) row.location = b.location;
      }
    }
  }
  const out = [...rows.values()];
  for (const r of out) r.isNew = r.pr > 0 && r.base === 0;
  return out.sort((x, y) => Number(y.isNew) - Number(x.isNew) || y.pr - x.pr || x.caller.localeCompare(y.caller));
}

/** No allocation by the module in any cycle of the analysis (a load with nothing to track is still measured). */
export function allocatedNothing(a: AnalysisResult): boolean {
  if (a.cycles < 1 || a.pairs.length === 0) return false;
  return a.pairs.every((p) => (p.moduleCycles ?? p.cycles).filter((c) => c.cycle >= 1).every((c) => c.allocs === 0));
}

interface MergedCaller {
  key: string;
  inModule: boolean | null;
  location?: string;
  counts: { allocs: number; frees: number; outstanding: number };
  cycles: CycleCounts[];
}

/** Call sites of one function merged (offsets differ between builds, a function may call twice). */
function mergeCallers(callers: CallerCounts[]): Map<string, MergedCaller> {
  const merged = new Map<string, MergedCaller>();
  for (const c of callers) {
    const key = callerKey(c.caller);
    let m = merged.get(key);
    if (!m) {
      m = { key, inModule: c.inModule, counts: { allocs: 0, frees: 0, outstanding: 0 }, cycles: [] };
      merged.set(key, m);
    }
    if (c.inModule === true || (c.inModule === null && m.inModule === false)) m.inModule = c.inModule;
    if (c.location && !m.location) m.location = c.location;
    m.counts.allocs += c.allocs;
    m.counts.frees += c.frees;
    m.counts.outstanding += c.outstanding;
    for (const pc of c.perCycle) {
      let into = m.cycles.find((x) => x.cycle === pc.cycle);
      if (!into) {
        into = { cycle: pc.cycle, allocs: 0, frees: 0, outstanding: 0, outstandingAfter: 0 };
        m.cycles.push(into);
      }
      into.allocs += pc.allocs;
      into.frees += pc.frees;
      into.outstanding += pc.outstanding;
      into.outstandingAfter += pc.outstandingAfter;
    }
  }
  for (const m of merged.values()) m.cycles.sort((a, b) => a.cycle - b.cycle);
  return merged;
}

/**
 * Did the trace see the pair at all? A pair without a single event (its functions not traced, or
 * never called) has zero counts that measure nothing.
 */
export function traced(p: PairResult): boolean {
  return p.allocs + p.frees + p.unmatchedFrees + (p.ignoredAllocs ?? 0) > 0;
}

/** Why a side has no figures for a pair, or null when it has them. */
export function notMeasured(side: 'base' | 'PR', name: string, p: PairResult | null): string | null {
  if (p === null) return problemText.pairMissing(name, side);
  if (!traced(p)) return problemText.noEvents(name, p.alloc, p.free, `the ${side} trace`);
  return null;
}

/** A side's figures show a leak: objects per cycle, or objects left after unload. */
export function leaks(f: SideFigures | null): boolean {
  return f !== null && (f.leakedPerCycle > EPSILON || f.outstanding > 0);
}

function rowStatus(base: SideFigures | null, pr: SideFigures | null): RowStatus {
  const b = leaks(base);
  const p = leaks(pr);
  if (!b && !p) return 'balanced';
  if (!b && p) return 'new-leak';
  if (b && !p) return 'fixed';
  const change = (pr?.leakedPerCycle ?? 0) - (base?.leakedPerCycle ?? 0);
  if (change > EPSILON) return 'worse';
  if (change < -EPSILON) return 'better';
  return 'same-leak';
}

/** The table's rows: per pair its module total, then each call site, base and PR side by side. */
export function comparisonRows(base: AnalysisResult, pr: AnalysisResult): ComparisonRow[] {
  const out: ComparisonRow[] = [];
  const names: string[] = [];
  for (const p of [...pr.pairs, ...base.pairs]) if (!names.includes(pairName(p))) names.push(pairName(p));
  for (const name of names) {
    const b = base.pairs.find((p) => pairName(p) === name) ?? null;
    const p = pr.pairs.find((x) => pairName(x) === name) ?? null;
    const bf = b ? totalFigures(b, base.cycles) : null;
    const pf = p ? totalFigures(p, pr.cycles) : null;
    // Nothing to judge on the PR. (A base that lacks the pair or never saw it leaves the PR
    // judged on its own figures.)
    const unmeasured = p === null || !traced(p);
    out.push({
      pair: name,
      caller: MODULE_TOTAL,
      inModule: true,
      base: bf,
      pr: pf,
      change: round2((pf?.leakedPerCycle ?? 0) - (bf?.leakedPerCycle ?? 0)),
      status: unmeasured ? 'not-measured' : rowStatus(bf, pf),
      total: true,
    });
    const bc = b ? mergeCallers(b.callers) : new Map<string, MergedCaller>();
    const pc = p ? mergeCallers(p.callers) : new Map<string, MergedCaller>();
    // Call counts on either side: no per-object leak per call site to compare.
    const countedOnly = b?.method === 'function' || p?.method === 'function';
    const callerRows: ComparisonRow[] = [];
    for (const key of new Set([...pc.keys(), ...bc.keys()])) {
      const bm = bc.get(key);
      const pm = pc.get(key);
      const bfig = bm ? figures(bm.counts, bm.cycles, base.cycles) : null;
      const pfig = pm ? figures(pm.counts, pm.cycles, pr.cycles) : null;
      const inModule = pm?.inModule === true || bm?.inModule === true ? true : (pm ?? bm)!.inModule;
      const location = pm?.location ?? bm?.location;
      callerRows.push({
        pair: name,
        caller: key,
        inModule,
        ...(location ? { location } : {}),
        base: bfig,
        pr: pfig,
        change: round2((pfig?.leakedPerCycle ?? 0) - (bfig?.leakedPerCycle ?? 0)),
        // Other code paths never count against the module: their rows are shown, not judged.
        status: countedOnly ? 'unknown' : inModule === false ? 'outside' : p === null ? 'not-measured' : rowStatus(bfig, pfig),
        ...(countedOnly ? { countedOnly: true } : {}),
      });
    }
    callerRows.sort(
      (x, y) =>
        Number(y.inModule !== false) - Number(x.inModule !== false) ||
        (y.pr?.leakedPerCycle ?? 0) - (x.pr?.leakedPerCycle ?? 0) ||
        (y.pr?.allocs ?? 0) - (x.pr?.allocs ?? 0) ||
        x.caller.localeCompare(y.caller),
    );
    out.push(...callerRows);
  }
  return out;
}

export function sideSummary(a: AnalysisResult) {
  return { complete: a.complete, lostEvents: a.lostEvents, cycles: a.cycles };
}

/** Objects leaked per cycle over the rows, on one side. */
export function sumRate(rs: ComparisonRow[], side: 'base' | 'pr'): number {
  return round2(rs.reduce((s, r) => s + (r[side]?.leakedPerCycle ?? 0), 0));
}

/** Where the PR's leak on a pair is: its worst in-module call site with paired objects. */
export function leakSite(all: ComparisonRow[], pair: string): string | null {
  const sites = all.filter((r) => r.pair === pair && !r.total && !r.countedOnly && r.inModule !== false && leaks(r.pr));
  sites.sort((a, b) => (b.pr?.leakedPerCycle ?? 0) - (a.pr?.leakedPerCycle ?? 0) || (b.pr?.outstanding ?? 0) - (a.pr?.outstanding ?? 0));
  return sites.length > 0 ? sites[0].caller : null;
}

/**
 * Objects the PR leaks per cycle over all pairs (module call sites): the `leaked-per-cycle`
 * output; undefined when the PR build was not measured (no pair has PR figures).
 */
export function prLeakedPerCycle(c: Comparison): number | undefined {
  const totals = c.rows.filter((r) => r.total);
  if (!totals.some((r) => r.pr !== null)) return undefined;
  return sumRate(totals, 'pr');
}
