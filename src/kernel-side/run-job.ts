// `alloc-balance target run`: the kernel-side part of one side's run, as root on the target
// kernel. Loads the module, runs the workload cycles under tracing, unloads, collects the
// trace and logs into outDir, and leaves the kernel as it found it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join, resolve } from 'node:path';
import { readVermagic, vermagicMismatch } from '../module-build/module-info.js';
import { stopwatch } from '../elapsed.js';
import { lastLines } from '../process/tail.js';
import type { RunStatus } from '../core/model.js';
import { RunAborted, throwIfAborted } from './abortable.js';
import { BACKGROUND_LOG, startBackground, type Background } from './background.js';
import { isKmemPair } from '../core/allocator-families.js';
import { pairName } from '../core/pair-spec.js';
import { symbolRanges } from './kernel-module.js';
import type { Marker } from '../core/trace-protocol.js';
import { describeUnknownNames, findUnknownNames, listed, readKprobeBlacklist } from './function-names.js';
import { DEFAULT_LOCK_FILE, type TargetJob } from './job.js';
import { insmod, isModuleLoaded, moduleCoreRange, readSections, unloadModule } from './kernel-module.js';
import { formatKmsg, kmsgMark, readKmsg } from './kmsg.js';
import { acquireLock } from './lock.js';
import { HugepageError, prepareHugepages } from './hugepages.js';
import { findSplats } from './splats.js';
import type { TargetStatus } from './status.js';
import { collectTrace, mark, setupTracing, type TraceSetup } from './trace-setup.js';
import { findTracefs, Tracefs } from './tracefs.js';
import { machineUndo } from './undo-executor.js';
import { UndoLog } from './undo.js';
import { runCycle, WorkloadFailure } from './workload.js';
import { runErrorSweep, SWEEP_RECORD } from './error-sweep.js';
import { type CallProbes, readCallCounts, setupCallProbes } from './call-counts.js';

/** A run that ended with a status other than ok, with what explains it. */
class RunFailure extends Error {
  constructor(
    readonly status: RunStatus,
    message: string,
    readonly logExcerpt?: string,
  ) {
    super(message);
    this.name = 'RunFailure';
  }
}

export interface TargetRunOptions {
  /** Aborted on SIGTERM/SIGINT (the CLI wires the signals). */
  signal?: AbortSignal;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  tracefsRoot?: string;
}

export interface TargetRunResult {
  status: TargetStatus;
  statusFile: string;
  /** 0: the run completed and the kernel was restored (the status says how the module did). */
  exitCode: number;
}

function dmesgText(mark: number): string {
  try {
    return readKmsg(mark).map(formatKmsg).join('\n');
  } catch (e) {
    return `[could not read /dev/kmsg: ${(e as Error).message}]`;
  }
}

function splatExcerpt(dmesg: string): { kind: string; excerpt: string } | null {
  const splats = findSplats(dmesg);
  if (splats.length === 0) return null;
  return { kind: splats.map((s) => s.kind).join(', '), excerpt: splats.map((s) => s.excerpt).join('\n...\n') };
}

export async function runTargetJob(job: TargetJob, opts: TargetRunOptions = {}): Promise<TargetRunResult> {
  const log = opts.log ?? (() => {});
  const outDir = resolve(job.outDir);
  mkdirSync(outDir, { recursive: true });
  const statusFile = join(outDir, 'status.json');
  const stateFile = job.stateFile ?? join(outDir, 'cleanup-state.json');
  const lockFile = job.lockFile ?? DEFAULT_LOCK_FILE;
  const undo = new UndoLog(stateFile, job.runId);
  const internal = new AbortController();
  const abort = opts.signal ? AbortSignal.any([opts.signal, internal.signal]) : internal.signal;
  const started = Date.now();
  const total = stopwatch();

  const status: TargetStatus = {
    schema: 'alloc-balance/target-status@1',
    status: 'ok',
    timings: { setup: 0, load: 0, cycles: [], unload: 0, collect: 0, total: 0 },
    kernel: osRelease(),
    module: { name: job.module.name, path: job.module.path, args: job.module.args, vermagic: '' },
    sections: {},
    tracing: null,
    files: [],
    notes: [],
    restoreProblems: [],
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
  };
  const fail = (s: RunStatus, reason: string, excerpt?: string) => {
    if (status.status !== 'ok') return; // the first failure explains the run
    status.status = s;
    status.reason = reason;
    if (excerpt) status.logExcerpt = excerpt;
  };

  let timer: NodeJS.Timeout | undefined;
  if (job.timeoutSeconds) {
    timer = setTimeout(() => internal.abort(new RunAborted('timeout', `the run took longer than ${job.timeoutSeconds} s`)), job.timeoutSeconds * 1000);
  }

  let tfs: Tracefs | null = null;
  let setup: TraceSetup | null = null;
  let kmsgStart = -1;
  let kmsgMarked = false;
  let loadedByUs = false;
  let background: Background | null = null;
  let callProbes: CallProbes | null = null;
  const traced = job.tracing !== false;
  const marker = (m: Marker) => {
    if (tfs && setup) mark(tfs, setup, m);
  };

  try {
    // 1. Exclusive use of the kernel, and a module that fits it.
    const t = stopwatch();
    undo.push({ kind: 'unlock', path: lockFile, pid: process.pid });
    try {
      const lock = acquireLock(lockFile, job.runId);
      if (lock.staleTakenOver) status.notes.push(`took over a stale lock of pid ${lock.staleTakenOver.pid} (run ${lock.staleTakenOver.runId})`);
    } catch (e) {
      undo.drop((s) => s.kind === 'unlock');
      throw new RunFailure('setup-failed', (e as Error).message);
    }
    if (!existsSync(job.module.path)) throw new RunFailure('setup-failed', `module file ${job.module.path} does not exist`);
    if (isModuleLoaded(job.module.name)) {
      throw new RunFailure(
        'setup-failed',
        `module ${job.module.name} is already loaded: unload it first (rmmod ${job.module.name}); a run must load and unload it itself`,
      );
    }
    status.module.vermagic = await readVermagic(job.module.path).catch((e: Error) => {
      throw new RunFailure('setup-failed', e.message);
    });
    const mismatch = vermagicMismatch(job.module.path, status.module.vermagic, status.kernel);
    if (mismatch) throw new RunFailure('setup-failed', mismatch);

    // 2. Every tracked name must be traceable, before anything is loaded.
    tfs = new Tracefs(opts.tracefsRoot ?? findTracefs());
    // The symbol list is bounded by the kernel (about 1 MB), not by the run.
    const traceable = tfs.read('available_filter_functions');
    const unknown = findUnknownNames(job.track, traceable, readKprobeBlacklist());
    if (unknown.length) throw new RunFailure('setup-failed', `track: ${describeUnknownNames(unknown)}`);
    log(`module and tracked names checked (${t()} s)`);
    const noTracepoint = job.track.filter((p) => isKmemPair(p) && !p.auto && !tfs?.exists(`events/kmem/${p.alloc}`));
    if (noTracepoint.length > 0) {
      throw new RunFailure('setup-failed', `track: ${noTracepoint.map(pairName).join(', ')} needs the kmem tracepoints, which this kernel does not have`);
    }

    // 3. Tracing in a private instance; hugepages; the "before" pictures.
    if (traced) {
      try {
        setup = setupTracing(tfs, { ...job, traceable: (fn) => listed(traceable, fn) }, undo);
      } catch (e) {
        throw new RunFailure('setup-failed', `tracing set-up: ${(e as Error).message}`);
      }
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
        callProbes = setupCallProbes(tfs, setup, job.module.name, job.countCalls, undo);
        if (callProbes.refused.length > 0) status.notes.push(`calls of ${callProbes.refused.join(', ')} cannot be counted`);
      }
      if (setup.deferredFreeEvent) status.notes.push('kvfree_call_rcu traced: an object given to kfree_rcu() counts as released when it is queued');
    } else status.notes.push('tracing off for this run (tracing: false): no trace is collected');
    if (job.hugepages !== undefined) {
      try {
        status.notes.push(...(await prepareHugepages(job.hugepages, job.runId, undo)));
      } catch (e) {
        if (e instanceof HugepageError) throw new RunFailure('setup-failed', e.message);
        throw e;
      }
    }
    writeFileSync(join(outDir, 'slabinfo-before.txt'), readFileSync('/proc/slabinfo')); // procfs files report size 0: copyFile would copy nothing
    status.files.push('slabinfo-before.txt');
    kmsgStart = kmsgMark();
    kmsgMarked = true;
    status.timings.setup = t();
    if (setup) log(`tracing set up in ${setup.instance} (${status.timings.setup} s)`);
    throwIfAborted(abort);

    // The background load covers load, cycles and unload.
    if (job.background) {
      log(`background: ${job.background.command}`);
      background = await startBackground(job.background, outDir, undo, abort);
      status.files.push(BACKGROUND_LOG);
      throwIfAborted(abort);
      if (background.exit) {
        const e = background.exit;
        throw new RunFailure(
          'setup-failed',
          `the background command ended before the run started (${e.signal ? `signal ${e.signal}` : `exit ${e.code}`}); see ${BACKGROUND_LOG}`,
        );
      }
    }

    // 4. Load; record where the sections landed while they are there to read.
    const tl = stopwatch();
    marker({ phase: 'load' });
    log(`insmod ${job.module.path} ${job.module.args}`.trim());
    undo.push({ kind: 'rmmod', name: job.module.name });
    const ins = await insmod(job.module.path, job.module.args);
    status.timings.load = tl();
    if (ins.code !== 0) {
      undo.drop((s) => s.kind === 'rmmod');
      const dmesg = dmesgText(kmsgStart);
      const splat = splatExcerpt(dmesg);
      const why = (ins.stderr || ins.stdout).trim() || ins.error || `exit ${ins.code}`;
      if (splat) throw new RunFailure('kernel-splat', `insmod ${job.module.name}: ${why}; the kernel reported ${splat.kind}`, splat.excerpt);
      throw new RunFailure('load-failed', `insmod ${job.module.name} failed: ${why}`, lastLines(dmesg, 20));
    }
    loadedByUs = true;
    status.sections = readSections(job.module.name);
    writeFileSync(join(outDir, 'sections.json'), `${JSON.stringify(status.sections, null, 2)}\n`);
    status.files.push('sections.json');
    if (Object.values(status.sections).length > 0 && Object.values(status.sections).every((a) => /^(0x)?0+$/.test(a))) {
      status.notes.push('section addresses read as 0 (kernel.kptr_restrict): module call sites after rmmod cannot be symbolized');
    }

    // kmem events name their call site by symbol only, and after rmmod a module address can be
    // named after code that lay there before: a stack (whose frames carry raw addresses) with
    // every kmalloc from the module's own range lets the analysis attribute it by address.
    const kmemAllocs = setup?.kmemEvents.filter((e) => e.startsWith('kmem/kmalloc') || e.startsWith('kmem/kmem_cache_alloc')) ?? [];
    if (job.stacks && tfs && setup && kmemAllocs.length > 0) {
      const range = moduleCoreRange(readFileSync('/proc/modules', 'utf8'), job.module.name);
      if (range) {
        const helpers = setup.stackAttributed.length > 0 ? symbolRanges(readFileSync('/proc/kallsyms', 'utf8'), setup.stackAttributed) : [];
        const ranges = [range, ...helpers].map((r) => `(call_site >= 0x${r.start.toString(16)} && call_site < 0x${r.end.toString(16)})`);
        for (const event of kmemAllocs) {
          const trigger = tfs.path(`${setup.instance}/events/${event}/trigger`);
          undo.push({ kind: 'remove-trigger', path: trigger, trigger: 'stacktrace' });
          writeFileSync(trigger, `stacktrace if ${ranges.join(' || ')}\n`);
        }
        // The module's own frees too: a bad free is reported with its stack.
        for (const event of setup.kmemEvents.filter((e) => e === 'kmem/kfree' || e === 'kmem/kmem_cache_free')) {
          const trigger = tfs.path(`${setup.instance}/events/${event}/trigger`);
          undo.push({ kind: 'remove-trigger', path: trigger, trigger: 'stacktrace' });
          writeFileSync(trigger, `stacktrace if ${ranges[0]}\n`);
        }
      } else {
        status.notes.push('module address range not readable in /proc/modules: kmalloc call sites are attributed by name only');
      }
    }

    // 5. The workload cycles.
    for (let n = 1; n <= job.cycles; n++) {
      throwIfAborted(abort);
      marker({ cycle: n, edge: 'start' });
      log(`cycle ${n}/${job.cycles}`);
      try {
        await runCycle(job.workload, n, outDir, undo, abort, (record) => {
          status.timings.cycles.push(record);
          status.files.push(record.log);
        });
      } catch (e) {
        if (e instanceof WorkloadFailure) {
          marker({ cycle: n, edge: 'end' });
          throw new RunFailure(e.status, e.message, e.logTail);
        }
        throw e;
      }
      marker({ cycle: n, edge: 'end' });
    }
  } catch (e) {
    if (e instanceof RunFailure) fail(e.status, e.message, e.logExcerpt);
    else if (e instanceof RunAborted) fail(e.why === 'timeout' ? 'timeout' : 'cancelled', e.message);
    else fail('setup-failed', `internal error: ${(e as Error).message}`, (e as Error).stack);
  }

  // 6. Unload (also after a failure, so the trace holds the releases), then collect.
  if (loadedByUs) {
    const tu = stopwatch();
    try {
      marker({ phase: 'unload' });
    } catch {
      /* the instance may be gone after a failure; the unload matters more */
    }
    const r = await unloadModule(job.module.name);
    status.timings.unload = tu();
    if (r.ok) undo.drop((s) => s.kind === 'rmmod');
    else fail('unload-failed', `rmmod ${job.module.name} failed: ${r.why}`, lastLines(dmesgText(kmsgStart), 20));
  }
  if (background) {
    // Stopped before the trace is read: its objects are all released inside the trace.
    const b = await background.stop();
    if (b.survived) fail('setup-failed', 'processes of the background command survived SIGKILL');
    else if (b.exitedEarly) {
      status.notes.push(
        `the background command ended before the run did (${b.exitSignal ? `signal ${b.exitSignal}` : `exit ${b.exitCode}`}): ` +
          `its load did not cover the whole run; see ${BACKGROUND_LOG}`,
      );
    } else if (b.killed) status.notes.push(`the background command needed SIGKILL after ${job.background!.graceSeconds} s`);
  }
  const tc = stopwatch();
  if (tfs && setup) {
    try {
      status.files.push(...(await collectTrace(tfs, setup, outDir)));
    } catch (e) {
      status.notes.push(`could not collect the trace: ${(e as Error).message}`);
    }
  }
  if (existsSync(join(outDir, 'slabinfo-before.txt'))) {
    writeFileSync(join(outDir, 'slabinfo-after.txt'), readFileSync('/proc/slabinfo'));
    status.files.push('slabinfo-after.txt');
  }
  if (kmsgMarked) {
    const dmesg = dmesgText(kmsgStart);
    writeFileSync(join(outDir, 'dmesg.txt'), dmesg ? `${dmesg}\n` : '');
    status.files.push('dmesg.txt');
    const splat = splatExcerpt(dmesg);
    if (splat && status.status === 'ok') fail('kernel-splat', `the kernel reported ${splat.kind} during the run`, splat.excerpt);
    else if (splat) status.notes.push(`the kernel also reported ${splat.kind}`);
  }
  status.timings.collect = tc();

  if (tfs && callProbes) status.calls = { cycles: readCallCounts(tfs, callProbes), refused: callProbes.refused };

  // 7. The error-path sweep: after the normal run's trace and dmesg, so that neither holds it.
  if (job.sweep && tfs && setup && status.status === 'ok' && !abort.aborted) {
    try {
      const sweep = await runErrorSweep({ ...job, sweep: job.sweep }, { tfs, setup, outDir, status, undo, abort, log });
      status.files.push(SWEEP_RECORD, ...sweep.sites.map((s) => s.dir));
      if (sweep.skipped) status.notes.push(`error paths: ${sweep.skipped}`);
      if (status.calls && callProbes && sweep.sites.length > 0) {
        const total = readCallCounts(tfs, callProbes);
        status.calls.sweep = Object.fromEntries(Object.entries(total).map(([fn, n]) => [fn, n - (status.calls?.cycles[fn] ?? 0)]));
      }
    } catch (e) {
      const why = e instanceof RunAborted ? e.message : `internal error: ${(e as Error).message}`;
      status.notes.push(`error paths: the sweep stopped: ${why}`);
      if (e instanceof RunAborted) fail(e.why === 'timeout' ? 'timeout' : 'cancelled', e.message);
    }
  }

  // 8. Restore every change (module, tracing, hugepages, workload, lock).
  if (timer) clearTimeout(timer);
  status.restoreProblems = await undo.undoAll(machineUndo);
  status.timings.total = total();
  status.finishedAt = new Date().toISOString();
  status.files = [...new Set(['status.json', ...status.files])];
  writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);

  const runnerFailed = ['setup-failed', 'timeout', 'cancelled'].includes(status.status) || status.restoreProblems.length > 0;
  return { status, statusFile, exitCode: runnerFailed ? 1 : 0 };
}
