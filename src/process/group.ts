// Process groups (a workload's, a background command's): who is still in one (zombies do not
// count, they hold nothing), and how one is stopped: its stop signal, SIGKILL after the grace time.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopwatch } from '../elapsed.js';

interface ProcessInfo {
  pid: number;
  comm: string;
  state: string;
  pgid: number;
}

/** Pure: fields of /proc/PID/stat (comm may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcessInfo | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), state: rest[0] ?? '?', pgid: Number(rest[2]) };
}

export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const p = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (p) out.push(p);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): ProcessInfo[] {
  return listProcesses().filter((p) => p.pgid === pgid && p.state !== 'Z' && p.state !== 'X');
}

export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** How long members may take to go after SIGKILL (a process in uninterruptible sleep). */
const KILL_WAIT_MS = 10_000;

/**
 * Stops a group: `signal`, SIGKILL when members remain after `graceSeconds`, then waits until none
 * is left (at most KILL_WAIT_MS). `killed`: SIGKILL was needed. The caller checks `groupAlive` for survivors.
 */
export async function stopGroup(pgid: number, signal: NodeJS.Signals, graceSeconds: number): Promise<{ killed: boolean }> {
  signalGroup(pgid, signal);
  const graceEnd = Date.now() + graceSeconds * 1000;
  while (Date.now() < graceEnd && groupAlive(pgid)) await sleep(100);
  if (!groupAlive(pgid)) return { killed: false };
  signalGroup(pgid, 'SIGKILL');
  const killEnd = Date.now() + KILL_WAIT_MS;
  while (Date.now() < killEnd && groupAlive(pgid)) await sleep(100);
  return { killed: true };
}

/** A shell command leading a process group of its own, its output on two pipes. */
interface ShellGroup {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Undefined when the shell could not be started (the child's 'error' says why). */
  pgid: number | undefined;
  /** Resolves once the shell has ended and its pipes are closed. */
  closed: Promise<void>;
}

/** Starts `sh -c command` as the leader of a new process group, with the process's environment and `env` over it. */
export function startShellGroup(command: string, opts: { cwd?: string; env?: Record<string, string> }): ShellGroup {
  const child = spawn('sh', ['-c', command], {
    cwd: opts.cwd || undefined,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, pgid: child.pid, closed };
}

/** How long the shell's pipes may take to close once its group is gone (a grandchild may hold them). */
const CLOSE_WAIT_MS = 2000;

/**
 * Stops a shell group (stopGroup) when a member is still alive, then waits for its pipes to close.
 * `stopSeconds`: from the stop signal until the group was gone, 0 when nothing was left to stop;
 * `survived`: members still alive after SIGKILL.
 */
export async function stopShellGroup(
  group: ShellGroup,
  signal: NodeJS.Signals,
  graceSeconds: number,
): Promise<{ killed: boolean; stopSeconds: number; survived: boolean }> {
  const { pgid } = group;
  let killed = false;
  let stopSeconds = 0;
  if (pgid !== undefined && groupAlive(pgid)) {
    const stopping = stopwatch();
    ({ killed } = await stopGroup(pgid, signal, graceSeconds));
    stopSeconds = stopping();
  }
  await Promise.race([group.closed, sleep(CLOSE_WAIT_MS)]);
  return { killed, stopSeconds, survived: pgid !== undefined && groupAlive(pgid) };
}
