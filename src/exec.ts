// Runs a program and collects its output (bounded): how the module build and the kernel side
// start helper programs (make, modinfo, nm, insmod, rmmod).
import { spawn } from 'node:child_process';
import { stopwatch } from './elapsed.js';

export interface CommandResult {
  /** Exit code; null when killed by a signal (see `signal`) or not started (see `error`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  /** Set when the program could not be started (ENOENT, EACCES). */
  error?: string;
  seconds: number;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills the program (SIGKILL to its process group) after this many seconds. */
  timeoutSeconds?: number;
  /** Characters of output kept (the tail); default 4 MiB. */
  maxOutput?: number;
}

/** Keeps the last `max` characters of a growing text. */
class Tail {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > this.max * 2) this.compact();
  }
  private compact(): void {
    const all = this.parts.join('');
    const kept = all.slice(-this.max);
    this.parts = [kept];
    this.size = kept.length;
  }
  text(): string {
    this.compact();
    return this.parts.join('');
  }
}

export function runCommand(cmd: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const max = opts.maxOutput ?? 4 * 1024 * 1024;
  const elapsed = stopwatch();
  return new Promise((resolve) => {
    const out = new Tail(max);
    const err = new Tail(max);
    const both = new Tail(max);
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.timeoutSeconds !== undefined,
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out.push(s);
      both.push(s);
    });
    child.stderr.on('data', (s: string) => {
      err.push(s);
      both.push(s);
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
    child.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code === 'ENOENT' ? `${cmd}: not found (is it installed?)` : `${cmd}: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: out.text(),
        stderr: err.text(),
        output: both.text(),
        error,
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

/** The last `n` non-empty lines of a text, joined by `separator` (' | ' puts them on one line). */
export function lastLines(text: string, n: number, separator = '\n'): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-n).join(separator);
}
