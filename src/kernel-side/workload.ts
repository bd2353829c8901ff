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
  const logName = `workload-${cycle}.log`;
  const log = createWriteStream(join(outDir, logName));
  const t0 = Date.now();
  const sinceStart = stopwatch();
  const record: CycleRecord = {
    cycle,
    startedAt: new Date(t0).toISOString(),
    readySeconds: 0,
    heldSeconds: 0,
    stopSeconds: 0,
    totalSeconds: 0,
    exitCode: null,
    exitSignal: null,
    killed: false,
    exitedDuringHold: false,
    log: logName,
  };

  started(record);
  let window = '';
  let patternSeen = false;
  const pattern = w.readyPattern ? new RegExp(w.readyPattern, 'm') : null;
  let exit: Exit | null = null;
  let onChange: () => void = () => {};

  const group = startShellGroup(w.command, { cwd: w.cwd, env: w.env });
  const { child, pgid } = group;
  child.on('error', (e) => {
    exit = { code: null, signal: null };
    window += `\n[could not start sh: ${e.message}]\n`;
    onChange();
  });
  if (pgid !== undefined) undo.push({ kind: 'kill-group', pgid });
  const onData = (b: Buffer) => {
    log.write(b);
    window = (window + b.toString('utf8')).slice(-WINDOW);
    if (pattern && !patternSeen && pattern.test(window)) patternSeen = true;
    onChange();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    onChange();
  });

  let survived = false;
  const finish = async (): Promise<void> => {
    const stop = await stopShellGroup(group, w.stopSignal, w.graceSeconds);
    record.killed = stop.killed;
    record.stopSeconds = stop.stopSeconds;
    survived = stop.survived;
    if (exit) {
      record.exitCode = (exit as Exit).code;
      record.exitSignal = (exit as Exit).signal;
    }
    await new Promise<void>((r) => log.end(r));
    if (pgid !== undefined) undo.drop((s) => s.kind === 'kill-group' && s.pgid === pgid);
    record.totalSeconds = sinceStart();
  };

  try {
    // Ready: the pattern, the ready command, or the delay; not ready when it exits or times out.
    const readyDeadline = t0 + w.readyTimeoutSeconds * 1000;
    const readyByDelay = !pattern && !w.readyCommand;
    let nextPoll = 0;
    for (;;) {
      throwIfAborted(abort);
      if (pattern && patternSeen) break;
      if (readyByDelay && sinceStart() >= w.readyDelaySeconds) break;
      if (exit) {
        const how = (exit as Exit).signal ? `was killed by ${(exit as Exit).signal}` : `exited with code ${(exit as Exit).code}`;
        throw new WorkloadFailure(
          'workload-not-ready',
          `cycle ${cycle}: the workload ${how} before it was ready${failureNote(window)}`,
          lastLines(window, FAILURE_LINES),
          record,
        );
      }
      if (Date.now() >= readyDeadline) {
        const what = pattern ? `printed nothing matching /${w.readyPattern}/` : w.readyCommand ? `\`${w.readyCommand}\` never succeeded` : 'was not ready';
        throw new WorkloadFailure(
          'workload-not-ready',
          `cycle ${cycle}: the workload ${what} within ${w.readyTimeoutSeconds} s`,
          lastLines(window, FAILURE_LINES),
          record,
        );
      }
      if (w.readyCommand && Date.now() >= nextPoll) {
        nextPoll = Date.now() + POLL_MS;
        const r = await runCommand('sh', ['-c', w.readyCommand], { timeoutSeconds: Math.max(5, w.readyTimeoutSeconds) });
        if (r.code === 0) break;
        continue;
      }
      await Promise.race([sleep(POLL_MS, abort), new Promise<void>((r) => (onChange = r))]);
    }
    record.readySeconds = sinceStart();

    const held = stopwatch();
    const holdEnd = Date.now() + w.holdSeconds * 1000;
    while (Date.now() < holdEnd && !exit) {
      await Promise.race([sleep(Math.min(POLL_MS, holdEnd - Date.now()), abort), new Promise<void>((r) => (onChange = r))]);
    }
    throwIfAborted(abort);
    record.exitedDuringHold = exit !== null;
    record.heldSeconds = held();
  } catch (e) {
    await finish();
    if (e instanceof WorkloadFailure) throw new WorkloadFailure(e.status, e.message, lastLines(window, FAILURE_LINES), record);
    throw e;
  }
  await finish();
  if (survived) {
    throw new WorkloadFailure('workload-failed', `cycle ${cycle}: processes of the workload survived SIGKILL`, lastLines(window, FAILURE_LINES), record);
  }
  return record;
}
