// Runs a short program to its end, synchronously: the probes behind a synchronous decision (can
// bubblewrap start here, does sudo ask for a password, does the compiler take this input, the
// udev rule's commands) and the demo's fixture repositories. Programs that take long, stream or
// may be cancelled go through run.ts.
import { spawnSync } from 'node:child_process';

export interface SyncResult {
  /** Started and exited with 0. */
  ok: boolean;
  /** Exit code; null when not started or killed (see `error`, `signal`). */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Why it did not run to its end: the errno code (ENOENT, ETIMEDOUT, ...) or the message. */
  error?: string;
}

interface SyncOptions {
  cwd?: string;
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Written to its standard input (else it reads nothing). */
  input?: string;
  /** Killed after this long (default: no limit). */
  timeoutMs?: number;
}

export function runSync(cmd: string, args: string[], opts: SyncOptions = {}): SyncResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs,
    stdio: 'pipe',
    maxBuffer: 16 * 1024 * 1024,
  });
  const error = r.error ? ((r.error as NodeJS.ErrnoException).code ?? r.error.message) : undefined;
  return { ok: !r.error && r.status === 0, status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(error ? { error } : {}) };
}

/** The last line a failed program wrote (stderr first), or how it ended. */
export function failureLine(r: SyncResult): string {
  return (r.stderr || r.stdout).trim().split('\n').pop() || (r.error ?? `exit ${r.status ?? r.signal}`);
}
