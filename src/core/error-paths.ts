// The error-path sweep's data and its pure parts: which call sites to fail, whether the sweep
// fits its bound, what one injected run left, and how base and PR compare. The kernel side
// runs the sweep (kernel-side/error-sweep.ts); the host side analyzes each site's trace.
import { callerKey } from './frames.js';
import type { AnalysisResult, ErrorPathFinding, ErrorPaths, ErrorPathSite, SweepLeak } from './model.js';

/** The bound of `error-paths: auto`: at most this many call sites... */
export const SWEEP_MAX_SITES = 24;
/** ...and an estimated cost (sites × one load, cycle and unload, from the side's own timings) under this. */
export const SWEEP_BUDGET_SECONDS = 60;
/** Per site beyond the measured load, cycle and unload: arming, trace collection, waiting for releases. */
export const SWEEP_SITE_OVERHEAD_SECONDS = 1;

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
  seconds: number;
  /** Section addresses for the analysis: sysfs while loaded, else from the helper's symbol lines. */
  sections?: Record<string, string>;
  /** `name address` lines the helper printed when the module came (for a module that did not stay). */
  symbols?: { name: string; address: string }[];
}

export interface SweepRecord {
  /** Why the sweep did not run (the bound, no site, no helper); absent when it ran. */
  skipped?: string;
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

/** The bound of `error-paths: auto`; null when the sweep fits, else why it is skipped. */
export function sweepBound(sites: number, perSiteSeconds: number): { estimateSeconds: number; skipped: string | null } {
  const estimateSeconds = Math.round(sites * perSiteSeconds * 10) / 10;
  if (sites === 0) return { estimateSeconds, skipped: 'no allocation call site of the module was seen in the cycles' };
  if (sites > SWEEP_MAX_SITES) {
    return { estimateSeconds, skipped: `the module has ${sites} allocation call sites, more than the ${SWEEP_MAX_SITES} error-paths: auto sweeps` };
  }
  if (estimateSeconds > SWEEP_BUDGET_SECONDS) {
    return {
      estimateSeconds,
      skipped: `${sites} sites × ${perSiteSeconds.toFixed(1)} s (one load, cycle and unload) ≈ ${estimateSeconds} s, more than the ${SWEEP_BUDGET_SECONDS} s error-paths: auto allows`,
    };
  }
  return { estimateSeconds, skipped: null };
}

/** What one injected run left: the module's objects still allocated at the end of its trace. */
export function sweepLeaks(analysis: AnalysisResult): SweepLeak[] {
  const out: SweepLeak[] = [];
  for (const p of analysis.pairs) {
    if (p.method === 'function') continue;
    for (const c of p.callers) {
      if (c.inModule !== true || c.outstanding <= 0) continue;
      out.push({ caller: c.caller, ...(c.location ? { location: c.location } : {}), pair: `${p.alloc}:${p.free}`, count: c.outstanding });
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
  const call = site.allocator ? `the ${site.allocator} at ` : 'the allocation at ';
  return `when ${call}${siteName(site.site, site.location)} fails, ${what} from ${siteName(leak.caller, leak.location)} ${leak.count === 1 ? 'is' : 'are'} never freed`;
}

/** A site and a leak, by function names: call-site offsets differ between base and PR builds. */
function findingKey(site: string, leak: SweepLeak): string {
  return `${callerKey(site)} -> ${callerKey(leak.caller)} (${leak.pair})`;
}

/**
 * The PR's error-path leaks that the base does not have: a (failed function, leaking function)
 * whose leaked objects outnumber the base's. `any`: every PR leak counts (fail-on: any-leak).
 */
export function newErrorPathLeaks(base: ErrorPaths | undefined, pr: ErrorPaths | undefined, any = false): ErrorPathFinding[] {
  if (!pr || pr.skipped) return [];
  const baseCount = new Map<string, number>();
  if (!any && base && !base.skipped) {
    for (const s of base.sites) {
      if (s.incomplete) continue;
      for (const l of s.leaks) baseCount.set(findingKey(s.site, l), (baseCount.get(findingKey(s.site, l)) ?? 0) + l.count);
    }
  }
  const out: ErrorPathFinding[] = [];
  for (const s of pr.sites) {
    if (s.incomplete) continue;
    for (const l of s.leaks) {
      const key = findingKey(s.site, l);
      const inBase = baseCount.get(key) ?? 0;
      if (l.count <= inBase) {
        baseCount.set(key, inBase - l.count);
        continue;
      }
      const leak = inBase > 0 ? { ...l, count: l.count - inBase } : l;
      out.push({
        site: s.site,
        ...(s.location ? { siteLocation: s.location } : {}),
        ...(s.allocator ? { allocator: s.allocator } : {}),
        leak,
        text: findingText(s, leak),
      });
    }
  }
  return out;
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
