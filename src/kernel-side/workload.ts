// One workload cycle: start the command in its own process group, wait until it is ready,
// keep it running, then stop the whole group (stop signal, SIGKILL after the grace time).
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { stopwatch } from '../elapsed.js';
import { runCommand } from '../process/run.js';
import { lastLines } from '../process/tail.js';
import { sleep, throwIfAborted } from './abortable.js';
import type { TargetWorkload } from './job.js';
import { startShellGroup, stopShellGroup } from '../process/group.js';
import type { UndoLog } from './undo.js';

export interface CycleRecord {
  cycle: number;
  startedAt: string;
  /** From start until ready. */
  readySeconds: number;
  /** Time it kept running once ready. */
  heldSeconds: number;
  /** From the stop signal until the whole group was gone. */
  stopSeconds: number;
  totalSeconds: number;
  /** How the workload's shell ended. */
  exitCode: number | null;
  exitSignal: string | null;
  /** SIGKILL was needed after the grace time. */
  killed: boolean;
  /** The workload ended by itself while it was held (it was ready before). */
  exitedDuringHold: boolean;
  log: string;
}

export class WorkloadFailure extends Error {
  constructor(
    readonly status: 'workload-not-ready' | 'workload-failed',
    message: string,
    readonly logTail: string,
    readonly record: CycleRecord,
  ) {
    super(message);
    this.name = 'WorkloadFailure';
  }
}

const WINDOW = 64 * 1024;
const POLL_MS = 200;

/** Lines of the output's end a failure shows. */
const FAILURE_LINES = 20;

const COMPLAINT = /\b(fatal|error|cannot|can't|failed|failure|unable|invalid|not found|no such)\b/i;

/** The line of a workload's output that says why it ended: its first complaint, else its last line. */
export function failureLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.find((l) => COMPLAINT.test(l)) ?? lines[lines.length - 1] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/** ` (it said: <the failure line>)`, to end a failure's reason. */
function failureNote(text: string): string {
  const line = failureLine(text);
  return line ? ` (it said: ${line})` : ' (it printed nothing)';
}

interface Exit {
  code: number | null;
  signal: string | null;
}

/** What the ready wait has seen so far. */
interface ReadyWatch {
  /** The ready pattern matched the output. */
  patternSeen: boolean;
  secondsSinceStart: number;
  /** The workload's shell ended (before it was ready). */
  exit: Exit | null;
  /** Past readyTimeoutSeconds. */
  timedOut: boolean;
}

/**
 * Pure: `ready` by the pattern or (with neither pattern nor command) the delay; the reason it will
 * never be ready (it exited, or the time ran out); else `wait` (the ready command, if any, is polled).
 */
export function readiness(w: TargetWorkload, cycle: number, seen: ReadyWatch): 'ready' | 'wait' | { notReady: string } {
  const pattern = w.readyPattern !== '';
  if (pattern && seen.patternSeen) return 'ready';
  if (!pattern && !w.readyCommand && seen.secondsSinceStart >= w.readyDelaySeconds) return 'ready';
  if (seen.exit) {
    const how = seen.exit.signal ? `was killed by ${seen.exit.signal}` : `exited with code ${seen.exit.code}`;
    return { notReady: `cycle ${cycle}: the workload ${how} before it was ready` };
  }
  if (seen.timedOut) {
    const what = pattern ? `printed nothing matching /${w.readyPattern}/` : w.readyCommand ? `\`${w.readyCommand}\` never succeeded` : 'was not ready';
    return { notReady: `cycle ${cycle}: the workload ${what} within ${w.readyTimeoutSeconds} s` };
  }
  return 'wait';
}

/**
 * The workload of one cycle, started in its own process group: its output goes to the cycle's log
 * and the end of it is kept; `changed` waits for new output or the exit.
 */
class CycleProcess {
  window = '';
  patternSeen = false;
  exit: Exit | null = null;
  private onChange: () => void = () => {};
  private readonly log;
  private readonly group;
  private readonly sinceStart = stopwatch();

  constructor(
    private readonly w: TargetWorkload,
    outDir: string,
    private readonly undo: UndoLog,
    readonly record: CycleRecord,
  ) {
    this.log = createWriteStream(join(outDir, record.log));
    const pattern = w.readyPattern ? new RegExp(w.readyPattern, 'm') : null;
    this.group = startShellGroup(w.command, { cwd: w.cwd, env: w.env });
    const { child, pgid } = this.group;
    child.on('error', (e) => {
      this.exit = { code: null, signal: null };
      this.window += `\n[could not start sh: ${e.message}]\n`;
      this.onChange();
    });
    if (pgid !== undefined) undo.push({ kind: 'kill-group', pgid });
    const onData = (b: Buffer) => {
      this.log.write(b);
      this.window = (this.window + b.toString('utf8')).slice(-WINDOW);
      if (pattern && !this.patternSeen && pattern.test(this.window)) this.patternSeen = true;
      this.onChange();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.onChange();
    });
  }

  seconds(): number {
    return this.sinceStart();
  }

  /** Resolves on new output or the exit, or after `ms`. */
  changed(ms: number, abort: AbortSignal): Promise<void> {
    return Promise.race([sleep(ms, abort), new Promise<void>((r) => (this.onChange = r))]);
  }

  tail(): string {
    return lastLines(this.window, FAILURE_LINES);
  }

  /** Stops the group (stop signal, SIGKILL after the grace time) and completes the record; true when processes survived SIGKILL. */
  async stop(): Promise<boolean> {
    const stop = await stopShellGroup(this.group, this.w.stopSignal, this.w.graceSeconds);
    this.record.killed = stop.killed;
    this.record.stopSeconds = stop.stopSeconds;
    if (this.exit) {
      this.record.exitCode = this.exit.code;
      this.record.exitSignal = this.exit.signal;
    }
    await new Promise<void>((r) => this.log.end(r));
    const { pgid } = this.group;
    if (pgid !== undefined) this.undo.drop((s) => s.kind === 'kill-group' && s.pgid === pgid);
    this.record.totalSeconds = this.seconds();
    return stop.survived;
  }
}

/** Until the workload is ready: the pattern, the ready command (polled), or the delay. */
async function waitReady(p: CycleProcess, w: TargetWorkload, abort: AbortSignal): Promise<void> {
  let nextPoll = 0;
  for (;;) {
    throwIfAborted(abort);
    const r = readiness(w, p.record.cycle, {
      patternSeen: p.patternSeen,
      secondsSinceStart: p.seconds(),
      exit: p.exit,
      timedOut: p.seconds() >= w.readyTimeoutSeconds,
    });
    if (r === 'ready') return;
    // A workload that ended says why in its output; one that timed out is still talking.
    if (r !== 'wait') throw new WorkloadFailure('workload-not-ready', p.exit ? `${r.notReady}${failureNote(p.window)}` : r.notReady, p.tail(), p.record);
    if (w.readyCommand && Date.now() >= nextPoll) {
      nextPoll = Date.now() + POLL_MS;
      const polled = await runCommand('sh', ['-c', w.readyCommand], { timeoutSeconds: Math.max(5, w.readyTimeoutSeconds) });
      if (polled.code === 0) return;
      continue;
    }
    await p.changed(POLL_MS, abort);
  }
}

/** Keeps the ready workload running for holdSeconds, or until it ends by itself. */
async function hold(p: CycleProcess, w: TargetWorkload, abort: AbortSignal): Promise<void> {
  const holdEnd = Date.now() + w.holdSeconds * 1000;
  while (Date.now() < holdEnd && !p.exit) await p.changed(Math.min(POLL_MS, holdEnd - Date.now()), abort);
  throwIfAborted(abort);
}

/**
 * Runs cycle `cycle`. `started` receives the cycle's record as soon as the workload starts (it
 * is completed in place), so that a cancelled run still accounts for the cycle it stopped in.
 */
export async function runCycle(
  w: TargetWorkload,
  cycle: number,
  outDir: string,
  undo: UndoLog,
  abort: AbortSignal,
  started: (record: CycleRecord) => void = () => {},
): Promise<CycleRecord> {
  const record: CycleRecord = {
    cycle,
    startedAt: new Date().toISOString(),
    readySeconds: 0,
    heldSeconds: 0,
    stopSeconds: 0,
    totalSeconds: 0,
    exitCode: null,
    exitSignal: null,
    killed: false,
    exitedDuringHold: false,
    log: `workload-${cycle}.log`,
  };
  started(record);
  const p = new CycleProcess(w, outDir, undo, record);
  try {
    await waitReady(p, w, abort);
    record.readySeconds = p.seconds();
    const held = stopwatch();
    await hold(p, w, abort);
    record.exitedDuringHold = p.exit !== null;
    record.heldSeconds = held();
  } catch (e) {
    await p.stop();
    if (e instanceof WorkloadFailure) throw new WorkloadFailure(e.status, e.message, p.tail(), record);
    throw e;
  }
  if (await p.stop()) {
    throw new WorkloadFailure('workload-failed', `cycle ${cycle}: processes of the workload survived SIGKILL`, p.tail(), record);
  }
  return record;
}
