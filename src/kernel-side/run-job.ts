// `alloc-balance target run`: the kernel-side part of one side's run, as root on the target
// kernel. Loads the module, runs the workload cycles under tracing, unloads, collects the
// trace and logs into outDir, and leaves the kernel as it found it. The phases are in
// run-phases.ts; this file runs them in order and writes the status.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stopwatch } from '../elapsed.js';
import { RunAborted, throwIfAborted } from './abortable.js';
import { DEFAULT_LOCK_FILE, type TargetJob } from './job.js';
import { backgroundOff, backgroundOn, collect, cycles, failWith, type JobRun, load, prepare, sweep, traceOn, unload } from './run-phases.js';
import type { TargetStatus } from './status.js';
import { MACHINE, type TargetSystem } from './target-system.js';
import { UndoLog } from './undo.js';

interface TargetRunOptions {
  /** Aborted on SIGTERM/SIGINT (the CLI wires the signals). */
  signal?: AbortSignal;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  tracefsRoot?: string;
  /** The machine the run acts on (a fake one in tests). */
  system?: TargetSystem;
}

interface TargetRunResult {
  status: TargetStatus;
  statusFile: string;
  /** 0: the run completed and the kernel was restored (the status says how the module did). */
  exitCode: number;
}

function newStatus(job: TargetJob, kernel: string, started: number): TargetStatus {
  return {
    schema: 'alloc-balance/target-status@1',
    status: 'ok',
    timings: { setup: 0, load: 0, cycles: [], unload: 0, collect: 0, total: 0 },
    kernel,
    module: { name: job.module.name, path: job.module.path, args: job.module.args, vermagic: '' },
    sections: {},
    tracing: null,
    files: [],
    notes: [],
    restoreProblems: [],
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
  };
}

export async function runTargetJob(job: TargetJob, opts: TargetRunOptions = {}): Promise<TargetRunResult> {
  const sys = opts.system ?? MACHINE;
  const outDir = resolve(job.outDir);
  mkdirSync(outDir, { recursive: true });
  const statusFile = join(outDir, 'status.json');
  const internal = new AbortController();
  const started = Date.now();
  const run: JobRun = {
    job,
    outDir,
    status: newStatus(job, sys.kernelRelease(), started),
    undo: new UndoLog(job.stateFile ?? join(outDir, 'cleanup-state.json'), job.runId),
    abort: opts.signal ? AbortSignal.any([opts.signal, internal.signal]) : internal.signal,
    log: opts.log ?? (() => {}),
    sys,
    tracefsRoot: opts.tracefsRoot,
    sinceStart: stopwatch(),
    loaded: false,
  };
  const timer = job.timeoutSeconds
    ? setTimeout(() => internal.abort(new RunAborted('timeout', `the run took longer than ${job.timeoutSeconds} s`)), job.timeoutSeconds * 1000)
    : undefined;

  try {
    const { traceable } = await prepare(run, job.lockFile ?? DEFAULT_LOCK_FILE);
    await traceOn(run, traceable);
    throwIfAborted(run.abort);
    await backgroundOn(run);
    await load(run);
    await cycles(run);
  } catch (e) {
    failWith(run, e);
  }
  await unload(run);
  await backgroundOff(run);
  await collect(run);
  await sweep(run);

  // Every change undone (module, tracing, hugepages, workload, lock), then the status written.
  if (timer) clearTimeout(timer);
  const { status } = run;
  status.restoreProblems = [...status.restoreProblems, ...(await run.undo.undoAll(sys.undo))];
  status.timings.total = run.sinceStart();
  status.finishedAt = new Date().toISOString();
  status.files = [...new Set(['status.json', ...status.files])];
  writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);

  const runnerFailed = ['setup-failed', 'timeout', 'cancelled'].includes(status.status) || status.restoreProblems.length > 0;
  return { status, statusFile, exitCode: runnerFailed ? 1 : 0 };
}
