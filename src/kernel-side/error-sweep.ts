// The error-path sweep on the target kernel, after the normal cycles and their trace: the
// helper module (kmod/failsite) is loaded once, then for each allocation call site of the module
// seen in the trace: arm the helper for that site, load the module, run one cycle, unload,
// and collect that run's trace into its own folder. An insmod or workload that fails because
// of the injected failure is expected and recorded, not an error of the run. A cycle that
// crashes the kernel, hangs, or leaves the module loaded ends the sweep, not the run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeTraces } from '../core/analyze-traces.js';
import { siteLimitSeconds, SWEEP_SITE_OVERHEAD_SECONDS, sweepBound, sweepSites, type SweepRecord, type SweepSiteRun } from '../core/error-paths.js';
import { describeCrash, SPLAT_PATTERNS } from '../kernel-splats.js';
import { writeDurably } from './durable-write.js';
import { armWatchdog, disarmWatchdog, WATCHDOG_GRACE_SECONDS } from '../lab/guest-watchdog.js';
import { ModuleMap } from '../core/module-map.js';
import type { Marker } from '../core/trace-protocol.js';
import { throwIfAborted } from './abortable.js';
import type { TargetJob, TargetSweep } from './job.js';
import { insmod, isModuleLoaded, readSections, symbolRanges, unloadModule } from './kernel-module.js';
import { formatKmsg, kmsgMark, readKmsg } from './kmsg.js';
import { findSplats } from './splats.js';
import type { TargetStatus } from './status.js';
import { addModuleAreaStackTriggers, collectTrace, mark, restartTrace, type TraceSetup } from './trace-setup.js';
import type { Tracefs } from './tracefs.js';
import type { UndoLog } from './undo.js';
import { runCycle, WorkloadFailure } from './workload.js';
import { stopwatch } from '../elapsed.js';

export const HELPER_MODULE = 'ab_failsite';
export const SWEEP_DIR = 'error-paths';
export const SWEEP_RECORD = 'error-paths/sweep.json';

const param = (name: string) => `/sys/module/${HELPER_MODULE}/parameters/${name}`;
const readParam = (name: string) => readFileSync(param(name), 'utf8').trim();

function commandError(r: { stderr: string; stdout: string; error?: string; code: number | null }): string {
  return (r.stderr || r.stdout).trim() || r.error || `exit ${r.code}`;
}

async function waitForReleases(): Promise<void> {
  for (let i = 0; i < 50 && readParam('pending') !== '0'; i++) await new Promise((res) => setTimeout(res, 100));
}

/**
 * kmem allocations get a stack when their call site is in any module (the reloads' addresses are
 * not known in advance) or in a helper the module's objects are attributed through by stack.
 */
function moduleAreaStacks(tfs: Tracefs, setup: TraceSetup, undo: UndoLog, stacks: boolean): void {
  if (!stacks) return;
  // As in the cycles: the kmallocs of helpers that could not be probed (kasprintf) are the module's by their stack.
  const helpers = setup.stackAttributed.length > 0 ? symbolRanges(readFileSync('/proc/kallsyms', 'utf8'), setup.stackAttributed) : [];
  addModuleAreaStackTriggers(tfs, setup, helpers, undo);
}

/** What the sweep left for the run to deal with. */
interface SweepOutcome {
  record: SweepRecord;
  /**
   * An injected cycle hung (insmod, the workload or rmmod never returned): the module and the
   * helper are left as they are, and the process must not wait for what hangs.
   */
  hung: boolean;
}

/**
 * The call sites to fail, from the cycles' trace, and whether the sweep fits its bound: each site
 * costs about a load, a cycle and an unload.
 */
async function planSweep(job: TargetJob & { sweep: TargetSweep }, setup: TraceSetup, outDir: string, status: TargetStatus) {
  const map = new ModuleMap(job.module.name, readFileSync(job.sweep.symbolsFile, 'utf8'), status.sections);
  const analysis = await analyzeTraces({ traces: [join(outDir, 'trace.txt')], pairs: setup.track, moduleMap: map });
  const sites = sweepSites(analysis);
  const cycles = status.timings.cycles;
  const cycle = cycles.length > 0 ? cycles.reduce((s, c) => s + c.totalSeconds, 0) / cycles.length : 1;
  const perSite = status.timings.load + cycle + status.timings.unload + SWEEP_SITE_OVERHEAD_SECONDS;
  return { sites, perSite, bound: sweepBound(sites.length, perSite, job.sweep.bound ?? 'auto') };
}

/**
 * Runs the sweep and writes error-paths/sweep.json (and a folder per site) under outDir.
 * `status` is the normal run's, whose timings set the estimate the bound is read on. The record
 * is flushed before each injected cycle with that site marked running: if the kernel dies in the
 * cycle, the host finds which site killed it.
 */
export async function runErrorSweep(
  job: TargetJob & { sweep: TargetSweep },
  ctx: { tfs: Tracefs; setup: TraceSetup; outDir: string; status: TargetStatus; undo: UndoLog; abort: AbortSignal; log: (line: string) => void },
): Promise<SweepOutcome> {
  const { tfs, setup, outDir, status, undo, abort, log } = ctx;
  const sweeping = stopwatch();
  mkdirSync(join(outDir, SWEEP_DIR), { recursive: true });
  const record: SweepRecord = { sites: [], estimateSeconds: 0, seconds: 0 };
  const save = () => {
    record.seconds = sweeping();
    writeDurably(join(outDir, SWEEP_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  };
  const done = (hung = false): SweepOutcome => ({ record: save(), hung });

  const { sites, perSite, bound } = await planSweep(job, setup, outDir, status);
  record.estimateSeconds = bound.estimateSeconds;
  if (bound.skipped) {
    record.skipped = bound.skipped;
    return done();
  }
  if (job.sweep.allocators.length === 0) {
    record.skipped = 'the module imports no allocator the sweep can fail';
    return done();
  }

  log(`error paths: ${sites.length} call sites, estimated ${bound.estimateSeconds} s`);
  undo.push({ kind: 'rmmod', name: HELPER_MODULE });
  const helper = await insmod(job.sweep.helperPath, `target=${job.module.name} allocators=${job.sweep.allocators.join(',')}`);
  if (helper.code !== 0) {
    undo.drop((s) => s.kind === 'rmmod' && s.name === HELPER_MODULE);
    record.skipped = `the sweep's helper module could not be loaded: ${commandError(helper)}`;
    return done();
  }
  const notProbed = readParam('unknown');
  if (notProbed !== '' && notProbed !== '(null)') record.notProbed = notProbed.split(',');
  moduleAreaStacks(tfs, setup, undo, job.stacks);
  record.planned = sites;
  const limit = siteLimitSeconds(perSite, job.workload);
  record.siteLimitSeconds = limit;

  let hung = false;
  try {
    for (const [i, site] of sites.entries()) {
      throwIfAborted(abort);
      const dir = join(SWEEP_DIR, String(i + 1).padStart(2, '0'));
      mkdirSync(join(outDir, dir), { recursive: true });
      const run: SweepSiteRun = { site, dir, injected: false, loaded: false, workload: 'not-run', unloaded: false, seconds: 0, running: true };
      record.sites.push(run);
      save();
      // Should the whole kernel freeze (no panic), the host stops the VM once this has passed.
      armWatchdog(outDir, limit + WATCHDOG_GRACE_SECONDS);
      log(`error paths: site ${i + 1}/${sites.length}: ${site}`);
      const injecting = stopwatch();
      const finished = await withinSeconds(injectSite(job, { tfs, setup, outDir, undo, abort }, run), limit);
      run.seconds = injecting();
      if (!finished) {
        hung = true;
        run.hungAfter = limit;
        record.stopped = `the injected cycle at ${site} did not end within ${limit} s`;
        break;
      }
      delete run.running;
      if (!run.unloaded) {
        record.stopped = `${job.module.name} could not be unloaded after the injected failure at ${site}`;
        break;
      }
    }
  } finally {
    // After a hang what is left (the restore) may hang too: the host ends the VM a minute on.
    if (hung) armWatchdog(outDir, 60);
    else disarmWatchdog(outDir);
    // After a hang the module and the helper may be in use by what hangs: they are left loaded.
    if (!hung) {
      await waitForReleases().catch(() => {});
      if ((await unloadModule(HELPER_MODULE)).ok) undo.drop((s) => s.kind === 'rmmod' && s.name === HELPER_MODULE);
    }
  }
  return done(hung);
}

/** true when `work` settled within `limit` seconds; false when it was still running. */
async function withinSeconds(work: Promise<void>, limit: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((res) => {
    timer = setTimeout(() => res(false), limit * 1000);
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** One injected cycle: arm the helper for the site, load, run one cycle, unload, collect its trace. */
async function injectSite(
  job: TargetJob,
  ctx: { tfs: Tracefs; setup: TraceSetup; outDir: string; undo: UndoLog; abort: AbortSignal },
  run: SweepSiteRun,
): Promise<void> {
  const { tfs, setup, outDir, undo, abort } = ctx;
  const marker = (m: Marker) => mark(tfs, setup, m);
  writeFileSync(param('site'), run.site);
  writeFileSync(param('nth'), '1');
  writeFileSync(param('hits'), '0');
  writeFileSync(param('injected'), '0');
  restartTrace(tfs, setup);
  const kmsgAt = kmsgMark();
  marker({ phase: 'load' });
  undo.push({ kind: 'rmmod', name: job.module.name });
  const ins = await insmod(job.module.path, job.module.args);
  run.loaded = ins.code === 0 && isModuleLoaded(job.module.name);
  if (run.loaded) {
    run.sections = readSections(job.module.name);
    marker({ cycle: 1, edge: 'start' });
    try {
      await runCycle(job.workload, 1, join(outDir, run.dir), undo, abort);
      run.workload = 'ok';
    } catch (e) {
      if (!(e instanceof WorkloadFailure)) throw e;
      run.workload = 'failed';
      run.workloadError = e.message;
    }
    marker({ cycle: 1, edge: 'end' });
    marker({ phase: 'unload' });
    run.unloaded = (await unloadModule(job.module.name)).ok;
  } else {
    run.insmodError = commandError(ins);
    run.unloaded = !isModuleLoaded(job.module.name);
  }
  if (run.unloaded) undo.drop((s) => s.kind === 'rmmod' && s.name === job.module.name);
  await waitForReleases();
  run.injected = readParam('injected') !== '0';
  const kmsg = readKmsg(kmsgAt);
  run.symbols = kmsg
    .map((r) => /^ab_failsite: symbol (\S+) ([0-9a-f]+)$/.exec(r.text))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1], address: `0x${m[2]}` }));
  const allocator = kmsg.map((r) => /^ab_failsite: failed (\S+) at /.exec(r.text)).find((m) => m)?.[1];
  if (allocator) run.allocator = allocator;
  const text = kmsg.map(formatKmsg).join('\n');
  const splats = findSplats(text);
  if (splats.length > 0) run.splat = splats.map((s) => s.kind).join(', ');
  // On a kernel without oops=panic the crash kills only the task that hit it: said as the VM's panic would be.
  if (splats.some((s) => SPLAT_PATTERNS.find((p) => p.kind === s.kind)?.crash)) {
    const crash = describeCrash(splats.map((s) => s.excerpt).join('\n'));
    if (crash) run.crash = crash;
  }
  await collectTrace(tfs, setup, join(outDir, run.dir));
}
