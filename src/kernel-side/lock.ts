// One run per kernel at a time: an exclusive lock file holding the owner's pid. A lock whose
// owner is gone (killed, machine rebooted into a fresh /run) is stale and taken over.
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

export class LockBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockBusyError';
  }
}

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOwner {
  pid: number;
  runId: string;
}

function readOwner(path: string): LockOwner | null {
  try {
    const [pid, runId] = readFileSync(path, 'utf8').trim().split(/\s+/);
    return { pid: Number(pid), runId: runId ?? '?' };
  } catch {
    return null;
  }
}

/** Takes the lock or throws LockBusyError naming the run that holds it. Returns a note when a stale lock was taken over. */
export function acquireLock(path: string, runId: string, pid = process.pid): { staleTakenOver?: LockOwner } {
  mkdirSync(dirname(path), { recursive: true });
  let stale: LockOwner | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${pid} ${runId}\n`);
      closeSync(fd);
      return stale ? { staleTakenOver: stale } : {};
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = readOwner(path);
    if (owner && processAlive(owner.pid) && owner.pid !== pid) {
      throw new LockBusyError(
        `another alloc-balance run (pid ${owner.pid}, run ${owner.runId}) holds ${path}: ` +
          `runs on one kernel must not overlap; wait for it, or remove ${path} if that process is not alloc-balance`,
      );
    }
    stale = owner ?? undefined;
    rmSync(path, { force: true });
  }
  throw new LockBusyError(`could not take the lock ${path}: it keeps being re-created by another process`);
}

/** Removes the lock when `pid` still owns it. */
export function releaseLock(path: string, pid = process.pid): void {
  const owner = readOwner(path);
  if (owner && owner.pid === pid) rmSync(path, { force: true });
}
