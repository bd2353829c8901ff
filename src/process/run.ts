// Runs a program and collects its output (bounded), streaming it to the caller as it comes: how
// every helper program (make, git, apt, modinfo, insmod, the kernel-side job) is started.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { stopwatch } from '../elapsed.js';
import { TailBuffer } from './tail.js';

export interface CommandResult {
  /** Exit code; null when killed by a signal (see `signal`) or not started (see `error`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  /** Set when the program could not be started (ENOENT, EACCES) or timed out. */
  error?: string;
  /** The errno code (else the message) when the program could not be started. */
  spawnError?: string;
  seconds: number;
}

interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills the program (SIGKILL to its process group) after this many seconds. */
  timeoutSeconds?: number;
  /** Characters of output kept (the tail); default 4 MiB. */
  maxOutput?: number;
  /** Each chunk of output as it arrives. */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  /** SIGTERM to the program when it fires. */
  signal?: AbortSignal;
  /** Written to the program's standard input (else it reads nothing). */
  input?: string;
}

export function runCommand(cmd: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const max = opts.maxOutput ?? 4 * 1024 * 1024;
  const elapsed = stopwatch();
  return new Promise((resolve) => {
    const out = new TailBuffer(max);
    const err = new TailBuffer(max);
    const both = new TailBuffer(max);
    let error: string | undefined;
    let spawnError: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: opts.timeoutSeconds !== undefined,
    }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    if (opts.input !== undefined && child.stdin) {
      // A program that exits without reading all of its input closes the pipe: not an error of ours.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out.push(s);
      both.push(s);
      opts.onOutput?.(s, 'stdout');
    });
    child.stderr.on('data', (s: string) => {
      err.push(s);
      both.push(s);
      opts.onOutput?.(s, 'stderr');
    });
    if (opts.timeoutSeconds !== undefined) {
      timer = setTimeout(() => {
        error = `timed out after ${opts.timeoutSeconds} s`;
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, opts.timeoutSeconds * 1000);
    }
    const abort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code ?? e.message;
      error = e.code === 'ENOENT' ? `${cmd}: not found (is it installed?)` : `${cmd}: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      resolve({
        // Node gives a program it could not start a negative errno as its code.
        code: spawnError === undefined ? code : null,
        signal,
        stdout: out.text(),
        stderr: err.text(),
        output: both.text(),
        error,
        ...(spawnError === undefined ? {} : { spawnError }),
        seconds: elapsed(),
      });
    });
  });
}

/** One line describing how a command ended, for messages. */
export function describeExit(r: CommandResult): string {
  if (r.error) return r.error;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit ${r.code}`;
}
