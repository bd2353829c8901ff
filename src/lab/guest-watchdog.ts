// A deadline the guest's job sets for itself while it does something that may freeze the whole
// kernel (an injected allocation failure): it writes the seconds it allows into WATCHDOG_FILE in
// its out folder, and the host stops the VM when that long has passed since the write with no
// new one. The file's mtime is the host's clock (the out folder is the host's over 9p).
import { rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const WATCHDOG_FILE = '.watchdog';
/** Beyond what the job allowed itself: the guest's clock and the 9p write may lag. */
export const WATCHDOG_GRACE_SECONDS = 30;

/** The job's side: allow `seconds` from now (replaces the previous deadline). */
export function armWatchdog(outDir: string, seconds: number): void {
  writeFileSync(join(outDir, WATCHDOG_FILE), `${Math.ceil(seconds)}\n`);
}

export function disarmWatchdog(outDir: string): void {
  rmSync(join(outDir, WATCHDOG_FILE), { force: true });
}

/** Pure: has the deadline written at `writtenAtMs` (text: the seconds allowed) passed at `nowMs`? */
export function watchdogExpired(text: string, writtenAtMs: number, nowMs: number): boolean {
  const seconds = Number(text.trim());
  if (!Number.isFinite(seconds) || seconds <= 0) return false;
  return nowMs > writtenAtMs + (seconds + WATCHDOG_GRACE_SECONDS) * 1000;
}

/** The host's side: true when the job's deadline in outDir ran out. */
export function watchdogFired(outDir: string, nowMs = Date.now()): boolean {
  const file = join(outDir, WATCHDOG_FILE);
  try {
    return watchdogExpired(readFileSync(file, 'utf8'), statSync(file).mtimeMs, nowMs);
  } catch {
    return false;
  }
}
