// The phases of a kernel-side run, in order: prepare (lock, module, names), traceOn (tracing,
// hugepages, the "before" pictures), backgroundOn, load, cycles, unload, backgroundOff, collect,
// sweep. Each takes the run (`JobRun`), records on it what it made, and throws a RunFailure when
// the run cannot go on; whatever a failed phase left is undone by the phases after it and the
// undo log. The machine is `run.sys`: a fake one in the tests.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isKmemPair } from '../core/allocator-families.js';
import type { RunStatus } from '../core/model.js';
import { pairName } from '../core/pair-spec.js';
import type { Marker } from '../core/trace-protocol.js';
import { stopwatch } from '../elapsed.js';
import { lastLines } from '../process/tail.js';
import { vermagicMismatch } from '../module-build/module-info.js';
import { RunAborted, throwIfAborted } from './abortable.js';
import { type Background, BACKGROUND_LOG } from './background.js';
import { type ApiWatch, startApiWatch } from './api-watch.js';
import { type VmallocWatch, watchVmallocAreas } from './vmalloc-watch.js';
import type { SnapshotMoment } from '../core/snapshot-files.js';
import { type CallProbes, readCallCounts, setupCallProbes } from './call-counts.js';
import { flushFile, writeDurably } from './durable-write.js';
import { HELPER_MODULE, runErrorSweep, SWEEP_DIR, SWEEP_RECORD } from './error-sweep.js';
import { describeUnknownNames, findUnknownNames, listed } from './function-names.js';
import { HugepageError } from './hugepages.js';
import { NicBindingError } from './nic-binding.js';
import type { TargetJob } from './job.js';
import { moduleCoreRange, symbolRanges } from './kernel-module.js';
import { findSplats } from './splats.js';
import type { TargetStatus } from './status.js';
import type { TargetSystem } from './target-system.js';
import { addModuleStackTriggers, collectTrace, kmemAllocEvents, mark, setupTracing, type TraceSetup } from './trace-setup.js';
import type { Tracefs } from './tracefs.js';
import type { UndoLog, UndoStep } from './undo.js';
import { WorkloadFailure } from './workload.js';

/** A run that ended with a status other than ok, with what explains it. */
export class RunFailure extends Error {
  constructor(
    readonly status: RunStatus,
    message: string,
    readonly logExcerpt?: string,
  ) {
    super(message);
    this.name = 'RunFailure';
  }
}

/** One run in progress: the job, its status as it is written, and what the phases made so far. */
export interface JobRun {
  job: TargetJob;
  /** Absolute. */
  outDir: string;
  status: TargetStatus;
  undo: UndoLog;
  abort: AbortSignal;
  log: (line: string) => void;
  sys: TargetSystem;
  tracefsRoot?: string;
  /** Time since the run began: the set-up's timing. */
  sinceStart: () => number;
  tfs?: Tracefs;
  /** The instance's set-up (absent with tracing: false). */
  trace?: TraceSetup;
  callProbes?: CallProbes;
  /** Where the run's kernel log begins; absent until the "before" pictures are taken. */
  kmsgStart?: number;
  /** The module was loaded by this run and is still to be unloaded. */
  loaded: boolean;
  background?: Background;
  /** The kernel-API memory helper, from before the load until the snapshot after unload. */
  apiWatch?: ApiWatch;
  /** The module's areas in /proc/vmallocinfo, read with the helper's snapshots. */
  vmallocWatch?: VmallocWatch;
}

/** The first failure explains the run: later ones leave its status as it is. */
export function fail(run: JobRun, s: RunStatus, reason: string, excerpt?: string): void {
  if (run.status.status !== 'ok') return;
  run.status.status = s;
  run.status.reason = reason;
  if (excerpt) run.status.logExcerpt = excerpt;
}

/** What a thrown error means for the run's status. */
export function failWith(run: JobRun, e: unknown): void {
  if (e instanceof RunFailure) fail(run, e.status, e.message, e.logExcerpt);
  else if (e instanceof RunAborted) fail(run, e.why === 'timeout' ? 'timeout' : 'cancelled', e.message);
  else fail(run, 'setup-failed', `internal error: ${(e as Error).message}`, (e as Error).stack);
}

function marker(run: JobRun, m: Marker): void {
  if (run.tfs && run.trace) mark(run.tfs, run.trace, m);
}

function splatExcerpt(dmesg: string): { kind: string; excerpt: string } | null {
  const splats = findSplats(dmesg);
  if (splats.length === 0) return null;
  return { kind: splats.map((s) => s.kind).join(', '), excerpt: splats.map((s) => s.excerpt).join('\n...\n') };
}

/**
 * Exclusive use of the kernel, a module that fits it and is not loaded, and every tracked name
 * traceable, before anything is changed. Returns available_filter_functions' text.
 */
export async function prepare(run: JobRun, lockFile: string): Promise<{ traceable: string }> {
  const { job, status, undo, sys } = run;
  undo.push({ kind: 'unlock', path: lockFile, pid: process.pid });
  try {
    const lock = sys.acquireLock(lockFile, job.runId);
    if (lock.staleTakenOver) status.notes.push(`took over a stale lock of pid ${lock.staleTakenOver.pid} (run ${lock.staleTakenOver.runId})`);
  } catch (e) {
    undo.drop((s) => s.kind === 'unlock');
    throw new RunFailure('setup-failed', (e as Error).message);
  }
  if (!existsSync(job.module.path)) throw new RunFailure('setup-failed', `module file ${job.module.path} does not exist`);
  if (sys.isModuleLoaded(job.module.name)) {
    throw new RunFailure(
      'setup-failed',
      `module ${job.module.name} is already loaded: unload it first (rmmod ${job.module.name}); a run must load and unload it itself`,
    );
  }
  status.module.vermagic = await sys.readVermagic(job.module.path).catch((e: Error) => {
    throw new RunFailure('setup-failed', e.message);
  });
  const mismatch = vermagicMismatch(job.module.path, status.module.vermagic, status.kernel);
  if (mismatch) throw new RunFailure('setup-failed', mismatch);

  const tfs = sys.tracefs(run.tracefsRoot);
  run.tfs = tfs;
  // The symbol list is bounded by the kernel (about 1 MB), not by the run.
  const traceable = tfs.read('available_filter_functions');
  const unknown = findUnknownNames(job.track, traceable, sys.readKprobeBlacklist());
  if (unknown.length) throw new RunFailure('setup-failed', `track: ${describeUnknownNames(unknown)}`);
  run.log(`module and tracked names checked (${run.sinceStart()} s)`);
  const noTracepoint = job.track.filter((p) => isKmemPair(p) && !p.auto && !tfs.exists(`events/kmem/${p.alloc}`));
  if (noTracepoint.length > 0) {
    throw new RunFailure('setup-failed', `track: ${noTracepoint.map(pairName).join(', ')} needs the kmem tracepoints, which this kernel does not have`);
  }
  return { traceable };
}

/** Tracing in a private instance (and the call probes); hugepages; the "before" pictures: slabinfo and the kernel log's position. */
export async function traceOn(run: JobRun, traceable: string): Promise<void> {
  const { job, status, undo, sys, tfs } = run;
  if (!tfs) throw new Error('traceOn before prepare');
  if (job.tracing !== false) {
    let setup: TraceSetup;
    try {
      setup = setupTracing(tfs, { ...job, traceable: (fn) => listed(traceable, fn) }, undo);
    } catch (e) {
      throw new RunFailure('setup-failed', `tracing set-up: ${(e as Error).message}`);
    }
    run.trace = setup;
    status.tracing = {
      instance: setup.instance,
      group: setup.group,
      pairs: setup.pairs,
      track: setup.track,
      functionTracer: setup.functionTracer,
      kmemEvents: setup.kmemEvents,
      traceBufferKb: job.traceBufferKb,
      stacks: job.stacks,
    };
    status.notes.push(...setup.notes);
    if (job.countCalls && job.countCalls.length > 0) {
      run.callProbes = setupCallProbes(tfs, setup, job.module.name, job.countCalls, undo);
      if (run.callProbes.refused.length > 0) status.notes.push(`calls of ${run.callProbes.refused.join(', ')} cannot be counted`);
    }
    if (setup.deferredFreeEvent) status.notes.push('kvfree_call_rcu traced: an object given to kfree_rcu() counts as released when it is queued');
  } else status.notes.push('tracing off for this run (tracing: false): no trace is collected');
  if (job.nics) {
    try {
      status.notes.push(...(await sys.bindNics(job.nics, undo)));
    } catch (e) {
      if (e instanceof NicBindingError) throw new RunFailure('setup-failed', e.message);
      throw e;
    }
  }
  if (job.hugepages !== undefined) {
    try {
      status.notes.push(...(await sys.prepareHugepages(job.hugepages, job.runId, undo)));
    } catch (e) {
      if (e instanceof HugepageError) throw new RunFailure('setup-failed', e.message);
      throw e;
    }
  }
  writeFileSync(join(run.outDir, 'slabinfo-before.txt'), sys.readProc('slabinfo'));
  status.files.push('slabinfo-before.txt');
  run.kmsgStart = sys.kmsgMark();
  status.timings.setup = run.sinceStart();
  if (run.trace) run.log(`tracing set up in ${run.trace.instance} (${status.timings.setup} s)`);
}

/** The job's background command, started before the load: its load covers load, cycles and unload. */
export async function backgroundOn(run: JobRun): Promise<void> {
  const b = run.job.background;
  if (!b) return;
  run.log(`background: ${b.command}`);
  run.background = await run.sys.startBackground(b, run.outDir, run.undo, run.abort);
  run.status.files.push(BACKGROUND_LOG);
  throwIfAborted(run.abort);
  const e = run.background.exit;
  if (e) {
    throw new RunFailure(
      'setup-failed',
      `the background command ended before the run started (${e.signal ? `signal ${e.signal}` : `exit ${e.code}`}); see ${BACKGROUND_LOG}`,
    );
  }
}

/** Loads the module and records where its sections landed while they are there to read. */
export async function load(run: JobRun): Promise<void> {
  const { job, status, undo, sys } = run;
  // Kernel-API memory is watched from before the load: the module's init allocates through APIs too.
  if (job.apiWatch && run.trace) {
    const w = await startApiWatch(sys, job.apiWatch, job.module.name, run.trace.stackAttributed, undo, run.outDir);
    if (typeof w === 'string') status.notes.push(`memory from kernel APIs not watched: the helper did not load: ${w}`);
    else run.apiWatch = w;
  }
  const t = stopwatch();
  marker(run, { phase: 'load' });
  run.log(`insmod ${job.module.path} ${job.module.args}`.trim());
  undo.push({ kind: 'rmmod', name: job.module.name });
  const ins = await sys.insmod(job.module.path, job.module.args);
  status.timings.load = t();
  if (ins.code !== 0) {
    undo.drop((s) => s.kind === 'rmmod' && s.name === job.module.name);
    const dmesg = sys.dmesg(run.kmsgStart ?? -1);
    const splat = splatExcerpt(dmesg);
    const why = (ins.stderr || ins.stdout).trim() || ins.error || `exit ${ins.code}`;
    if (splat) throw new RunFailure('kernel-splat', `insmod ${job.module.name}: ${why}; the kernel reported ${splat.kind}`, splat.excerpt);
    throw new RunFailure('load-failed', `insmod ${job.module.name} failed: ${why}`, lastLines(dmesg, 20));
  }
  run.loaded = true;
  if (job.vmallocWatch) run.vmallocWatch = watchVmallocAreas(sys, job.module.name, run.outDir);
  snapshots(run, 'load');
  status.sections = sys.readSections(job.module.name);
  writeFileSync(join(run.outDir, 'sections.json'), `${JSON.stringify(status.sections, null, 2)}\n`);
  status.files.push('sections.json');
  if (Object.values(status.sections).length > 0 && Object.values(status.sections).every((a) => /^(0x)?0+$/.test(a))) {
    status.notes.push('section addresses read as 0 (kernel.kptr_restrict): module call sites after rmmod cannot be symbolized');
  }
  const { tfs, trace } = run;
  if (job.stacks && tfs && trace && kmemAllocEvents(trace).length > 0) {
    const range = moduleCoreRange(sys.readProc('modules'), job.module.name);
    if (range) {
      const helpers = trace.stackAttributed.length > 0 ? symbolRanges(sys.readProc('kallsyms'), trace.stackAttributed) : [];
      addModuleStackTriggers(tfs, trace, range, helpers, undo);
    } else {
      status.notes.push('module address range not readable in /proc/modules: kmalloc call sites are attributed by name only');
    }
  }
}

/** The workload's cycles, each between two markers in the trace. */
export async function cycles(run: JobRun): Promise<void> {
  const { job, status } = run;
  for (let n = 1; n <= job.cycles; n++) {
    throwIfAborted(run.abort);
    marker(run, { cycle: n, edge: 'start' });
    run.log(`cycle ${n}/${job.cycles}`);
    try {
      await run.sys.runCycle(job.workload, n, run.outDir, run.undo, run.abort, (record) => {
        status.timings.cycles.push(record);
        status.files.push(record.log);
      });
    } catch (e) {
      if (e instanceof WorkloadFailure) {
        marker(run, { cycle: n, edge: 'end' });
        throw new RunFailure(e.status, e.message, e.logTail);
      }
      throw e;
    }
    marker(run, { cycle: n, edge: 'end' });
    snapshots(run, n);
  }
}

/** The kernel-API helper's objects and the module's vmalloc areas after load, a cycle, or unload. */
function snapshots(run: JobRun, which: SnapshotMoment): void {
  if (run.apiWatch) run.status.files.push(run.apiWatch.snapshot(which));
  if (run.vmallocWatch) run.status.files.push(run.vmallocWatch.snapshot(which));
}

/** Unloads what the run loaded: also after a failure, so that the trace holds the releases. */
export async function unload(run: JobRun): Promise<void> {
  if (!run.loaded) return;
  const { job, status } = run;
  const t = stopwatch();
  try {
    marker(run, { phase: 'unload' });
  } catch {
    /* the instance may be gone after a failure; the unload matters more */
  }
  const r = await run.sys.unloadModule(job.module.name);
  status.timings.unload = t();
  if (r.ok) {
    run.loaded = false;
    run.undo.drop((s) => s.kind === 'rmmod' && s.name === job.module.name);
    snapshots(run, 'end');
  } else fail(run, 'unload-failed', `rmmod ${job.module.name} failed: ${r.why}`, lastLines(run.sys.dmesg(run.kmsgStart ?? -1), 20));
  if (run.apiWatch) {
    await run.apiWatch.stop();
    run.apiWatch = undefined;
  }
}

/** Stops the background command before the trace is read: its objects are all released inside the trace. */
export async function backgroundOff(run: JobRun): Promise<void> {
  if (!run.background) return;
  const b = await run.background.stop();
  if (b.survived) fail(run, 'setup-failed', 'processes of the background command survived SIGKILL');
  else if (b.exitedEarly) {
    run.status.notes.push(
      `the background command ended before the run did (${b.exitSignal ? `signal ${b.exitSignal}` : `exit ${b.exitCode}`}): ` +
        `its load did not cover the whole run; see ${BACKGROUND_LOG}`,
    );
  } else if (b.killed) run.status.notes.push(`the background command needed SIGKILL after ${run.job.background?.graceSeconds} s`);
}

/** The trace, the "after" pictures and the kernel log into outDir; a splat in the log fails the run. */
export async function collect(run: JobRun): Promise<void> {
  const { status, outDir, sys, tfs, trace } = run;
  const t = stopwatch();
  if (tfs && trace) {
    try {
      status.files.push(...(await collectTrace(tfs, trace, outDir)));
    } catch (e) {
      status.notes.push(`could not collect the trace: ${(e as Error).message}`);
    }
  }
  if (existsSync(join(outDir, 'slabinfo-before.txt'))) {
    writeFileSync(join(outDir, 'slabinfo-after.txt'), sys.readProc('slabinfo'));
    status.files.push('slabinfo-after.txt');
  }
  if (run.kmsgStart !== undefined) {
    const dmesg = sys.dmesg(run.kmsgStart);
    writeFileSync(join(outDir, 'dmesg.txt'), dmesg ? `${dmesg}\n` : '');
    status.files.push('dmesg.txt');
    const splat = splatExcerpt(dmesg);
    if (splat && status.status === 'ok') fail(run, 'kernel-splat', `the kernel reported ${splat.kind} during the run`, splat.excerpt);
    else if (splat) status.notes.push(`the kernel also reported ${splat.kind}`);
  }
  status.timings.collect = t();
  if (tfs && run.callProbes) status.calls = { cycles: readCallCounts(tfs, run.callProbes), refused: run.callProbes.refused };
}

/**
 * The error-path sweep (job.sweep), after the normal run's trace and dmesg so that neither holds
 * it; only after an ok run. The cycles' results are complete and on the out share before any
 * failure is injected: an injected cycle that crashes or hangs the kernel ends the sweep, never
 * the side's verdict (the host reads this status when the VM dies in the sweep).
 */
export async function sweep(run: JobRun): Promise<void> {
  const { job, status, tfs, trace, callProbes, outDir } = run;
  if (!job.sweep || !tfs || !trace || status.status !== 'ok' || run.abort.aborted) return;
  status.errorSweep = 'running';
  status.files.push(SWEEP_RECORD);
  status.timings.total = run.sinceStart();
  for (const f of ['trace.txt', 'dmesg.txt']) if (existsSync(join(outDir, f))) flushFile(join(outDir, f));
  writeDurably(join(outDir, 'status.json'), `${JSON.stringify({ ...status, files: [...new Set(['status.json', ...status.files])] }, null, 2)}\n`);
  // The background load covers the sweep too (its own log, beside the sites' folders).
  mkdirSync(join(outDir, SWEEP_DIR), { recursive: true });
  const background = job.background ? await run.sys.startBackground(job.background, join(outDir, SWEEP_DIR), run.undo, run.abort) : undefined;
  if (background) status.files.push(join(SWEEP_DIR, BACKGROUND_LOG));
  try {
    const { record, hung } = await runErrorSweep(
      { ...job, sweep: job.sweep },
      { tfs, setup: trace, outDir, status, undo: run.undo, abort: run.abort, log: run.log },
    );
    status.files.push(...record.sites.map((s) => s.dir));
    if (record.skipped) status.notes.push(`error paths: ${record.skipped}`);
    if (record.stopped) status.notes.push(`error paths: the sweep stopped: ${record.stopped}`);
    if (hung) {
      // What hangs holds the module and the helper: rmmod would hang too. Left for a reboot (a VM's is thrown away).
      for (const name of [job.module.name, HELPER_MODULE]) {
        const isIt = (s: UndoStep) => s.kind === 'rmmod' && s.name === name;
        if (!run.undo.pending.some(isIt)) continue;
        run.undo.drop(isIt);
        status.restoreProblems.push(`${name} left loaded: the error-path sweep hung in it (reboot to remove it)`);
      }
    } else if (status.calls && callProbes && record.sites.length > 0) {
      const total = readCallCounts(tfs, callProbes);
      status.calls.sweep = Object.fromEntries(Object.entries(total).map(([fn, n]) => [fn, n - (status.calls?.cycles[fn] ?? 0)]));
    }
  } catch (e) {
    const why = e instanceof RunAborted ? e.message : `internal error: ${(e as Error).message}`;
    status.notes.push(`error paths: the sweep stopped: ${why}`);
    // The cycles were measured: only a cancellation ends the side; running out of time ends the sweep.
    if (e instanceof RunAborted && e.why !== 'timeout') fail(run, 'cancelled', e.message);
  }
  if (background && (await background.stop()).survived) status.notes.push('error paths: processes of the background command survived SIGKILL');
  status.errorSweep = 'done';
}
