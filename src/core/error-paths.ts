// The error-path sweep's data and its pure parts: which call sites to fail, whether the sweep
// fits its bound, what one injected run left, and how base and PR compare. The kernel side
// runs the sweep (kernel-side/error-sweep.ts); the host side analyzes each site's trace.
import type { CrashSummary } from '../kernel-splats.js';
import { callerKey } from './frames.js';
import type { AnalysisResult, Breakage, ErrorPathFinding, ErrorPaths, ErrorPathSite, SweepLeak } from './model.js';

/** The bound of `error-paths: auto`: at most this many call sites... */
export const SWEEP_MAX_SITES = 24;
/** ...and an estimated cost (sites × one load, cycle and unload, from the side's own timings) under this. */
export const SWEEP_BUDGET_SECONDS = 60;
/** Per site beyond the measured load, cycle and unload: arming, trace collection, waiting for releases. */
export const SWEEP_SITE_OVERHEAD_SECONDS = 1;
/**
 * An injected cycle that takes longer than this many times its estimate hung: the sweep stops
 * there and reports it. Never less than the workload's own limits (a workload that never gets
 * ready fails the cycle, it does not hang it) plus SWEEP_SITE_MIN_LIMIT_SECONDS for load and unload.
 */
const SWEEP_SITE_LIMIT_FACTOR = 10;
const SWEEP_SITE_MIN_LIMIT_SECONDS = 60;

/** The time one injected cycle may take before the sweep calls it hung. */
export function siteLimitSeconds(perSiteSeconds: number, workload: { readyTimeoutSeconds: number; holdSeconds: number; graceSeconds: number }): number {
  const own = workload.readyTimeoutSeconds + workload.holdSeconds + workload.graceSeconds + SWEEP_SITE_MIN_LIMIT_SECONDS;
  return Math.ceil(Math.max(own, perSiteSeconds * SWEEP_SITE_LIMIT_FACTOR));
}

/** What the kernel side did at one call site (error-paths/NN/site.json's line in sweep.json). */
export interface SweepSiteRun {
  /** The call site failed, as the analysis names it: `leak_shapes_open+0x5a`. */
  site: string;
  /** The folder of its trace, relative to the side's out dir. */
  dir: string;
  /** The injected failure happened (the site was reached and the call failed). */
  injected: boolean;
  /** The allocator whose call was failed, as the helper probed it (`kmalloc_trace`). */
  allocator?: string;
  /** insmod succeeded (an init site's failure may make it fail: expected). */
  loaded: boolean;
  insmodError?: string;
  /** The workload ran its cycle to the end (a failed open may make it fail: expected). */
  workload: 'ok' | 'failed' | 'not-run';
  workloadError?: string;
  /** The module could be unloaded after the cycle. */
  unloaded: boolean;
  /** The kernel's report of the injected cycle (Oops, WARNING, ...), when it made one. */
  splat?: string;
  /** The kernel crashed in the injected cycle and survived it (no oops=panic): what and where. */
  crash?: CrashSummary;
  /**
   * Written before the injected cycle starts and removed when it ends: a record left with it
   * names the site whose cycle the kernel did not survive (the VM panicked or hung).
   */
  running?: true;
  /** The injected cycle did not end within this many seconds: the sweep stopped there. */
  hungAfter?: number;
  seconds: number;
  /** Section addresses for the analysis: sysfs while loaded, else from the helper's symbol lines. */
  sections?: Record<string, string>;
  /** `name address` lines the helper printed when the module came (for a module that did not stay). */
  symbols?: { name: string; address: string }[];
}

export interface SweepRecord {
  /** Why the sweep did not run (the bound, no site, no helper); absent when it ran. */
  skipped?: string;
  /** Why the sweep stopped before its last site (a site that hung, a module that stayed loaded). */
  stopped?: string;
  /** Every site the sweep is to fail, in order: those without a run were not swept. */
  planned?: string[];
  /** The seconds one injected cycle may take (siteLimitSeconds). */
  siteLimitSeconds?: number;
  sites: SweepSiteRun[];
  /** sites × per-site estimate, the figure the bound is read on. */
  estimateSeconds: number;
  seconds: number;
  /** Allocators the module imports that the helper could not probe. */
  notProbed?: string[];
}

const SITE = /^[A-Za-z_][\w.]*\+0x[0-9a-f]+$/;

/** The module's allocation call sites in a normal run's analysis: each failed once by the sweep. */
export function sweepSites(analysis: AnalysisResult): string[] {
  const sites = new Set<string>();
  for (const p of analysis.pairs) {
    if (p.method === 'function') continue; // counted by calls: no object to give back
    for (const c of p.callers) if (c.inModule === true && c.allocs > 0 && SITE.test(c.caller)) sites.add(c.caller);
  }
  return [...sites].sort();
}

/** The bound of `error-paths: auto` (`all` has none); null when the sweep fits, else why it is skipped. */
export function sweepBound(sites: number, perSiteSeconds: number, mode: 'auto' | 'all' = 'auto'): { estimateSeconds: number; skipped: string | null } {
  const estimateSeconds = Math.round(sites * perSiteSeconds * 10) / 10;
  if (sites === 0) return { estimateSeconds, skipped: 'no allocation call site of the module was seen in the cycles' };
  if (mode === 'all') return { estimateSeconds, skipped: null };
  if (sites > SWEEP_MAX_SITES) {
    return {
      estimateSeconds,
      skipped: `the module has ${sites} allocation call sites, more than the ${SWEEP_MAX_SITES} error-paths: auto sweeps (error-paths: all sweeps them all)`,
    };
  }
  if (estimateSeconds > SWEEP_BUDGET_SECONDS) {
    return {
      estimateSeconds,
      skipped: `${sites} sites × ${perSiteSeconds.toFixed(1)} s (one load, cycle and unload) ≈ ${estimateSeconds} s, more than the ${SWEEP_BUDGET_SECONDS} s error-paths: auto allows (error-paths: all sweeps them all)`,
    };
  }
  return { estimateSeconds, skipped: null };
}

const leakKey = (pair: string, caller: string) => `${pair}\0${caller}`;

/**
 * What a normal cycle leaves at each of the module's call sites (objects left after unload, per
 * cycle): an injected cycle that leaves no more than that shows the module's ordinary leak, which
 * the cycles already report, not one of its error path.
 */
export function cycleLeftovers(analysis: AnalysisResult): Map<string, number> {
  const out = new Map<string, number>();
  const cycles = Math.max(analysis.cycles, 1);
  for (const p of analysis.pairs) {
    if (p.method === 'function') continue;
    for (const c of p.callers) {
      if (c.inModule === true && c.outstanding > 0) out.set(leakKey(`${p.alloc}:${p.free}`, c.caller), c.outstanding / cycles);
    }
  }
  return out;
}

/** What one injected run left beyond a normal cycle's leftovers: the module's objects still allocated at the end of its trace. */
export function sweepLeaks(analysis: AnalysisResult, leftovers: ReadonlyMap<string, number> = new Map()): SweepLeak[] {
  const out: SweepLeak[] = [];
  for (const p of analysis.pairs) {
    if (p.method === 'function') continue;
    const pair = `${p.alloc}:${p.free}`;
    for (const c of p.callers) {
      if (c.inModule !== true) continue;
      const count = c.outstanding - Math.ceil(leftovers.get(leakKey(pair, c.caller)) ?? 0);
      if (count > 0) out.push({ caller: c.caller, ...(c.location ? { location: c.location } : {}), pair, count });
    }
  }
  return out;
}

/** `abcase_open:18` from the function and `abcase.c:18`; the function alone without a line. */
export function siteName(caller: string, location?: string): string {
  const fn = callerKey(caller);
  const line = location ? /:(\d+)$/.exec(location)?.[1] : undefined;
  return line ? `${fn}:${line}` : fn;
}

/** The allocator a C source line calls, e.g. `kzalloc` in `ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);`. */
export function allocatorInLine(line: string): string | undefined {
  const m =
    /\b(k[a-z_]*alloc\w*|v[a-z_]*alloc\w*|kstrn?dup\w*|kmemdup\w*|kv?asprintf|__get_free_pages|get_zeroed_page|alloc_pages\w*|alloc_netdev\w*|alloc_etherdev\w*|ioremap\w*|alloc_percpu\w*|__alloc_percpu\w*|kthread_\w+)\s*\(/.exec(
      line,
    );
  return m?.[1];
}

/** The sentence of a finding. */
export function findingText(site: ErrorPathSite, leak: SweepLeak): string {
  const what = leak.count === 1 ? 'the object' : `${leak.count} objects`;
  return `when ${callText(site)} fails, ${what} from ${siteName(leak.caller, leak.location)} ${leak.count === 1 ? 'is' : 'are'} never freed`;
}

function callText(site: Pick<ErrorPathSite, 'allocator' | 'site' | 'location'>): string {
  return `${site.allocator ? `the ${site.allocator} at ` : 'the allocation at '}${siteName(site.site, site.location)}`;
}

/** What a breakage did, after "failing the kzalloc at abcase_open:18". */
export function breakageText(b: Breakage, moduleName?: string): string {
  if (b.kind === 'crash') {
    const detail = [b.what, b.where ? `in ${b.where}` : ''].filter((x) => x).join(' ');
    return `crashed the kernel (${detail})`;
  }
  if (b.kind === 'hang') {
    return b.seconds !== undefined ? `hung the injected cycle (it did not end within ${b.seconds} s)` : 'hung the kernel (the VM stopped answering)';
  }
  return `left ${moduleName ?? 'the module'} unable to unload`;
}

/** "failing the kzalloc at abcase_open:18 crashed the kernel (NULL pointer dereference in abcase_open+0x2a)" */
function breakageFindingText(site: ErrorPathSite, b: Breakage, moduleName?: string): string {
  return `failing ${callText(site)} ${breakageText(b, moduleName)}`;
}

/**
 * The same call site on both sides: by function and allocator, since offsets and lines differ
 * between base and PR builds (an allocator not known on one side matches any).
 */
function sameSite(a: Pick<ErrorPathSite, 'site' | 'allocator'>, b: Pick<ErrorPathSite, 'site' | 'allocator'>): boolean {
  return callerKey(a.site) === callerKey(b.site) && (!a.allocator || !b.allocator || a.allocator === b.allocator);
}

interface SweepComparison {
  /** The PR's leaks and breakages the base does not have: these fail the check under new-leak. */
  findings: ErrorPathFinding[];
  /** The PR's leaks and breakages at sites the base's sweep never reached: listed, not judged. */
  notCompared: ErrorPathFinding[];
}

/**
 * The PR's error-path leaks and breakages that the base does not have: at the same site (by
 * function and allocator), leaked objects of a function and pair that outnumber the base's, a
 * crash, hang or stuck module where the base had none of that kind. A PR site the base never
 * swept (its sweep stopped first, was skipped or did not run) is not compared. `any`: every PR
 * leak and breakage counts (fail-on: any-leak).
 */
export function compareSweeps(base: ErrorPaths | undefined, pr: ErrorPaths | undefined, any = false): SweepComparison {
  const out: SweepComparison = { findings: [], notCompared: [] };
  if (!pr || pr.skipped) return out;
  const baseUsable = base !== undefined && !base.skipped;
  const baseSites = baseUsable ? base.sites.filter((s) => !s.incomplete || s.breakage) : [];
  // What the base left, per site and leak, used up as PR leaks are matched to it.
  const left = new Map(baseSites.map((s) => [s, new Map(s.leaks.map((l) => [`${callerKey(l.caller)} (${l.pair})`, l.count]))]));
  const baseStopped = !baseUsable || (base.notSwept?.length ?? 0) > 0;
  for (const s of pr.sites) {
    if (s.incomplete && !s.breakage) continue;
    const where = {
      site: s.site,
      ...(s.location ? { siteLocation: s.location } : {}),
      ...(s.allocator ? { allocator: s.allocator } : {}),
    };
    const matches = baseSites.filter((b) => sameSite(b, s));
    const list = any || matches.length > 0 || !baseStopped ? out.findings : out.notCompared;
    if (s.breakage && (any || !matches.some((b) => b.breakage?.kind === s.breakage?.kind))) {
      list.push({ ...where, breakage: s.breakage, text: breakageFindingText(s, s.breakage, pr.module) });
    }
    for (const l of s.leaks) {
      const key = `${callerKey(l.caller)} (${l.pair})`;
      let count = l.count;
      for (const b of any ? [] : matches) {
        const had = left.get(b)?.get(key) ?? 0;
        const used = Math.min(had, count);
        left.get(b)?.set(key, had - used);
        count -= used;
      }
      if (count <= 0) continue;
      const leak = count < l.count ? { ...l, count } : l;
      list.push({ ...where, leak, text: findingText(s, leak) });
    }
  }
  return out;
}

/** The findings of compareSweeps alone. */
export function newErrorPathLeaks(base: ErrorPaths | undefined, pr: ErrorPaths | undefined, any = false): ErrorPathFinding[] {
  return compareSweeps(base, pr, any).findings;
}

/**
 * Section addresses of a module whose load did not last (its init failed), from the helper's
 * `name address` lines and the .ko's `nm -f sysv` symbols: section start = address - value.
 */
export function sectionsFromSymbols(
  symbols: { name: string; value: bigint; section: string }[],
  seen: { name: string; address: string }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of seen) {
    const sym = symbols.find((x) => x.name === s.name);
    if (!sym || out[sym.section]) continue;
    out[sym.section] = `0x${(BigInt(s.address) - sym.value).toString(16)}`;
  }
  return out;
}

/** The allocators a module imports that the sweep's helper is asked to probe (it says which it could not). */
export function sweepAllocators(imports: Iterable<string>, isAllocator: (name: string) => boolean): string[] {
  return [...new Set([...imports].filter(isAllocator))].sort();
}
