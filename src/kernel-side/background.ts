// The job's background command: other load on the same kernel while the module is measured
// (another module allocating from the same allocator, network-stack churn). It runs in its own
// process group from before the load until after the unload, and is stopped like a workload.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './abortable.js';
import type { TargetBackground } from './job.js';
import { startShellGroup, stopShellGroup } from '../process/group.js';
import type { UndoLog } from './undo.js';

export const BACKGROUND_LOG = 'background.log';

interface BackgroundStop {
  /** The command ended by itself before it was stopped (its load did not cover the whole run). */
  exitedEarly: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  /** SIGKILL was needed after the grace time. */
  killed: boolean;
  /** Members of the group still alive after SIGKILL (the runner then reports it). */
  survived: boolean;
}

export interface Background {
  /** Non-null once the command has ended, stopped or not. */
  readonly exit: { code: number | null; signal: string | null } | null;
  stop(): Promise<BackgroundStop>;
}

/** Starts the command; returns once it has run `settleSeconds` (or has already ended). */
export async function startBackground(b: TargetBackground, outDir: string, undo: UndoLog, abort: AbortSignal): Promise<Background> {
  const log = createWriteStream(join(outDir, BACKGROUND_LOG));
  let exit: { code: number | null; signal: string | null } | null = null;
  let stopping = false;
  const group = startShellGroup(b.command, { cwd: b.cwd, env: b.env });
  const { child, pgid } = group;
  if (pgid !== undefined) undo.push({ kind: 'kill-group', pgid });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  child.on('error', (e) => {
    exit = { code: null, signal: null };
    log.write(`\n[could not start sh: ${e.message}]\n`);
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    if (!stopping) log.write(`\n[background command ended by itself: ${signal ? `signal ${signal}` : `exit ${code}`}]\n`);
  });

  const settleEnd = Date.now() + b.settleSeconds * 1000;
  while (Date.now() < settleEnd && !exit && !abort.aborted) await sleep(Math.min(100, settleEnd - Date.now()));

  return {
    get exit() {
      return exit;
    },
    async stop(): Promise<BackgroundStop> {
      const exitedEarly = exit !== null;
      stopping = true;
      const { killed, survived } = await stopShellGroup(group, b.stopSignal, b.graceSeconds);
      await new Promise<void>((r) => log.end(r));
      if (pgid !== undefined && !survived) undo.drop((s) => s.kind === 'kill-group' && s.pgid === pgid);
      const e = exit as { code: number | null; signal: string | null } | null;
      return { exitedEarly, exitCode: e?.code ?? null, exitSignal: e?.signal ?? null, killed, survived };
    },
  };
}
