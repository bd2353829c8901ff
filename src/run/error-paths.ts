// The host's part of the error-path sweep (input `error-paths`): builds the helper module
// (kmod/failsite) for the target kernel, gives the kernel-side job what the sweep needs, and
// analyzes each injected run's trace once the job is back.
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { familyOf, isCountedAllocator } from '../core/allocator-families.js';
import { analyzeTraces } from '../core/analyze-traces.js';
import { describeCrash } from '../kernel-splats.js';
import {
  allocatorInLine,
  breakageText,
  sectionsFromSymbols,
  siteName,
  sweepAllocators,
  sweepLeaks,
  type SweepRecord,
  type SweepSiteRun,
} from '../core/error-paths.js';
import type { Breakage, ErrorPathSite, ErrorPaths, PairSpec } from '../core/model.js';
import { ModuleMap, parseNm } from '../core/module-map.js';
import { HELPER_MODULE, SWEEP_RECORD } from '../kernel-side/error-sweep.js';
import type { TargetSweep } from '../kernel-side/job.js';
import { locateCallers, lookUpLines } from '../module-build/module-info.js';
import { isWithin } from '../sandbox/system-view.js';
import type { HelperModule } from './helper-modules.js';

export const FAILSITE: HelperModule = { folder: 'failsite', name: HELPER_MODULE, what: 'the error-path helper' };

/** The job's sweep part: the helper, the allocators to probe, the module's symbols (written to outDir). */
export function sweepJob(helperPath: string, imports: string[], symbolsText: string, outDir: string): TargetSweep {
  const symbolsFile = join(outDir, 'module-symbols.txt');
  writeFileSync(symbolsFile, symbolsText);
  const allocators = sweepAllocators(imports, (n) => familyOf(n)?.role === 'alloc' && !isCountedAllocator(n));
  return { helperPath, allocators, symbolsFile };
}

function sourceLine(root: string, location: string | undefined): string {
  const m = location ? /^(.*):(\d+)$/.exec(location) : null;
  if (!m) return '';
  const file = m[1].startsWith('/') ? m[1] : join(root, m[1]);
  try {
    // The path comes from the PR's debug info: read only the PR's own tree, never a file a link or an absolute path points to elsewhere.
    if (!isWithin(realpathSync(file), realpathSync(root))) return '';
    return readFileSync(file, 'utf8').split('\n')[Number(m[2]) - 1] ?? '';
  } catch {
    return '';
  }
}

/** How the VM ended when the kernel did not survive the sweep: the console's crash report, or a hang. */
export type SweepEnd = { kind: 'crash'; excerpt: string } | { kind: 'hang' };

/** What an injected cycle did besides leaking, from its record and, for the site the run died in, how the VM ended. */
export function siteBreakage(run: SweepSiteRun, end: SweepEnd | undefined): Breakage | undefined {
  if (run.running) {
    if (end?.kind === 'crash') return { kind: 'crash', ...(describeCrash(end.excerpt) ?? { what: 'kernel panic' }) };
    if (end?.kind === 'hang') return { kind: 'hang' };
    return undefined;
  }
  if (run.crash) return { kind: 'crash', ...run.crash };
  if (run.hungAfter !== undefined) return { kind: 'hang', seconds: run.hungAfter };
  if (!run.unloaded) return { kind: 'stuck' };
  return undefined;
}

/**
 * Reads error-paths/sweep.json and analyzes each site's trace; undefined when the job ran no
 * sweep. `end`: the VM died in the sweep (the site marked running is the one it died at).
 */
export async function readErrorPaths(
  outDir: string,
  opts: {
    ko: string;
    moduleName: string;
    symbolsText: string;
    pairs: PairSpec[];
    root: string;
    end?: SweepEnd;
    /** What a normal cycle leaves at each call site (core/error-paths.ts cycleLeftovers). */
    leftovers?: ReadonlyMap<string, number>;
  },
): Promise<ErrorPaths | undefined> {
  const file = join(outDir, SWEEP_RECORD);
  if (!existsSync(file)) return undefined;
  const record = JSON.parse(readFileSync(file, 'utf8')) as SweepRecord;
  const result: ErrorPaths = { module: opts.moduleName, sites: [], seconds: record.seconds, ...(record.skipped ? { skipped: record.skipped } : {}) };
  if (record.notProbed) result.notProbed = record.notProbed;
  if (record.stopped) result.stopped = record.stopped;
  const reached = new Set(record.sites.map((s) => s.site));
  const notSwept = (record.planned ?? []).filter((s) => !reached.has(s));
  if (notSwept.length > 0) result.notSwept = notSwept;
  const symbols = parseNm(opts.symbolsText);
  const fullMap = new ModuleMap(opts.moduleName, opts.symbolsText, {});
  const siteLines = await lookUpLines(opts.ko, fullMap.offsets(record.sites.map((s) => s.site)), opts.root);
  for (const run of record.sites) {
    const location = siteLines.get(run.site);
    const allocator = allocatorInLine(sourceLine(opts.root, location)) ?? run.allocator;
    const site: ErrorPathSite = {
      site: run.site,
      ...(location ? { location } : {}),
      ...(allocator ? { allocator } : {}),
      injected: run.injected,
      loaded: run.loaded,
      workload: run.workload,
      unloaded: run.unloaded,
      ...(run.splat ? { splat: run.splat } : {}),
      leaks: [],
    };
    result.sites.push(site);
    const breakage = siteBreakage(run, opts.end);
    if (breakage) {
      site.breakage = breakage;
      const why = breakageText(breakage, opts.moduleName);
      result.stopped = `failing ${site.allocator ? `the ${site.allocator} at ` : ''}${siteName(site.site, site.location)} ${why}`;
    }
    const trace = join(outDir, run.dir, 'trace.txt');
    // A module still loaded has left nothing yet: what its trace shows outstanding (its init's objects) is no leak.
    if (run.running || breakage?.kind === 'stuck' || !existsSync(trace)) {
      if (!breakage) site.incomplete = true;
      continue;
    }
    // sysfs while the module was loaded; the helper's lines for what sysfs lacked (a failed init, freed init text).
    const sections = { ...sectionsFromSymbols(symbols, run.symbols ?? []), ...(run.sections ?? {}) };
    const map = new ModuleMap(opts.moduleName, opts.symbolsText, sections);
    const profile = join(outDir, run.dir, 'kprobe-profile.txt');
    const analysis = await analyzeTraces({
      traces: [trace],
      pairs: opts.pairs,
      ...(existsSync(profile) ? { kprobeProfile: profile } : {}),
      moduleMap: map,
    }).catch(() => null);
    if (!analysis) {
      site.incomplete = true;
      continue;
    }
    await locateCallers(analysis, map, opts.ko, opts.root);
    if (!analysis.complete) site.incomplete = true;
    site.leaks = sweepLeaks(analysis, opts.leftovers);
  }
  return result;
}
