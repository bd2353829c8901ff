// Boots a lab VM on a prepared kernel, runs one job chrooted into a root made of the host's system
// and the folders the job names (read-only over 9p, writable through an overlay in the guest), and
// returns its exit code, the console and how the run ended. The guest's code is untrusted (the PR's
// module and workload): it sees nothing else of the host, and what it leaves in outDir is data only. QEMU never outlives the run: not on timeout, not on abort (the caller's
// signal), and through setpriv's parent-death signal not when this process dies.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { UsageError } from '../errors.js';
import { ConsoleWatch } from './console-watch.js';
import { EXIT_CODE_FILE, type GuestRoot, guestEnvFile, jobScript } from './guest-scripts.js';
import { distinctFolders, isWithin, systemView, type SystemView } from '../sandbox/system-view.js';
import { scrubGuestOutput } from './guest-output.js';
import type { LabKernel } from './lab-kernel.js';
import type { QemuChoice } from './lab-qemu.js';
import type { VmNics } from './vm-nics.js';
import type { AccelUsed } from '../core/model.js';
import { hostAccel } from './kvm-host.js';
import { qemuArgs } from './qemu-args.js';
import { defaultNumber } from '../inputs/table.js';
import { disarmWatchdog, watchdogFired } from './guest-watchdog.js';
import { lastLines } from '../process/tail.js';
import { stopwatch } from '../elapsed.js';

export interface GuestJob {
  /** Program and arguments, run chrooted into the host root (host paths work unchanged). */
  argv: string[];
  /** Working directory (absolute host path). */
  cwd: string;
  /** Environment on top of PATH, HOME=/root and LANG=C.UTF-8; nothing else is inherited. */
  env?: Record<string, string>;
  /** Absolute host directory, mounted read-write at the same path in the guest. Created if missing. */
  outDir: string;
  /**
   * Host folders the guest sees read-only at their own path (the tree, the program and its bundle);
   * besides them only the system (/usr and an allow-list of /etc) and outDir.
   */
  shares?: string[];
  /** Seconds the job may run once the guest is up; then the VM is killed (timedOut). */
  timeoutSeconds: number;
}

export interface GuestResult {
  /** The job's exit code; null when it did not finish (timeout, kernel panic). */
  exitCode: number | null;
  timedOut: boolean;
  /** The job's own deadline in its out folder ran out (guest-watchdog.ts): the guest stopped answering. */
  stalled: boolean;
  kernelPanic: boolean;
  /** The kernel splat (oops, BUG, panic) from the console with a few lines before it; '' when none. */
  panicExcerpt: string;
  /** Serial console (kernel messages and the job's stdout/stderr), capped; full copy in outDir/console.log. */
  console: string;
  accel: AccelUsed;
  /** The host folders the guest saw (besides the system): read-only shares, then outDir read-write. */
  shared: string[];
  /** Links, devices and set-id bits the guest left in outDir, removed before anything read it. */
  removedFromOut: string[];
  seconds: {
    /** QEMU start to /init. */
    boot: number;
    /** /init to the job's start: modules, 9p mounts, the guest's root. */
    setup: number;
    /** Job start to job end (or to the kill). */
    run: number;
    total: number;
  };
}

interface GuestOptions {
  signal?: AbortSignal;
  /** Absent: the vm-memory input's default (and so for cpus and the boot timeout). */
  memoryMb?: number;
  cpus?: number;
  /** Seconds from QEMU's start until the job starts (kernel boot, modules, mounts). */
  bootTimeoutSeconds?: number;
  /** Default: kvm when usable as it is, else tcg (this default never changes udev: see kvm-access.ts). */
  accel?: AccelUsed;
  /** Console text as it arrives (for live logs). */
  onConsole?: (text: string) => void;
  /** Told the control folder (guest.env, job.sh) as soon as it exists; it is removed when the run ends. */
  onControlDir?: (dir: string) => void;
  /** Extra kernel command-line parameters (e.g. `slub_debug=U,kmalloc-4k`). */
  extraAppend?: string[];
  /** The QEMU to run (lab-qemu.ts); default: the runner's qemu-system-x86_64. */
  qemu?: Pick<QemuChoice, 'binary' | 'dataDirs' | 'env'>;
  /** Emulated NICs in the guest. */
  nics?: VmNics | null;
}

/** The lab itself failed (QEMU did not start, the guest never reached /init, a mount failed). */
export class GuestError extends Error {
  constructor(
    message: string,
    readonly console: string,
  ) {
    super(message);
    this.name = 'GuestError';
  }
}

const KILL_GRACE_MS = 2000;
const WATCHDOG_POLL_MS = 2000;
/** How long QEMU may take to exit by itself after the job ended or the kernel panicked. */
const POWEROFF_GRACE_MS = 15000;

export function validateJob(job: GuestJob): void {
  if (!Array.isArray(job.argv) || job.argv.length === 0 || job.argv.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw new UsageError('guest job: argv must be a non-empty list of strings without NUL characters');
  }
  if (job.argv[0].includes('=')) throw new UsageError(`guest job: program "${job.argv[0]}" must not contain "="`);
  for (const [name, value] of [
    ['cwd', job.cwd],
    ['outDir', job.outDir],
  ] as const) {
    if (typeof value !== 'string' || !isAbsolute(value) || /[\0\n]/.test(value)) {
      throw new UsageError(`guest job: ${name} "${value}" must be an absolute host path`);
    }
  }
  if (job.outDir === '/') throw new UsageError('guest job: outDir must not be /');
  if (!(job.timeoutSeconds > 0) || !Number.isFinite(job.timeoutSeconds)) {
    throw new UsageError(`guest job: timeoutSeconds ${job.timeoutSeconds} must be a positive number`);
  }
  for (const [k, v] of Object.entries(job.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string' || v.includes('\0')) {
      throw new UsageError(`guest job: environment variable "${k}" must be a name (letters, digits, _) with a string value`);
    }
  }
}

// The VMs running now in this process. Cancellation comes through opts.signal (the entry point
// owns the process's signals); QEMU also dies with this process (setpriv --pdeathsig).
let live = 0;

/** Number of QEMU processes started by runInGuest that are still running in this process. */
export function liveGuests(): number {
  return live;
}

export async function runInGuest(kernel: LabKernel, job: GuestJob, opts: GuestOptions = {}): Promise<GuestResult> {
  validateJob(job);
  opts.signal?.throwIfAborted();
  for (const f of [kernel.vmlinux, kernel.initrd]) {
    if (!existsSync(f)) throw new UsageError(`VM lab file ${f} is missing: run \`alloc-balance lab setup\` again`);
  }
  const accel = opts.accel ?? hostAccel(false);
  const bootTimeoutSeconds = opts.bootTimeoutSeconds ?? defaultNumber('boot-timeout');
  mkdirSync(job.outDir, { recursive: true });
  rmSync(join(job.outDir, EXIT_CODE_FILE), { force: true });
  disarmWatchdog(job.outDir);

  const staged = stageGuest(kernel, job, accel, opts);
  let seen: QemuRunSeen;
  live++;
  try {
    seen = await watchQemu(staged, job, bootTimeoutSeconds, opts);
  } finally {
    live--;
    rmSync(staged.ctlDir, { recursive: true, force: true });
  }
  const removedFromOut = scrubGuestOutput(job.outDir);
  if (seen.aborted) throw opts.signal?.reason ?? new Error('guest run aborted');
  const exitFile = join(job.outDir, EXIT_CODE_FILE);
  const result = guestOutcome(seen, bootTimeoutSeconds, existsSync(exitFile) ? readFileSync(exitFile, 'utf8') : null);
  return { ...result, accel, shared: [...staged.root.shares.slice(staged.systemFolders), job.outDir], removedFromOut };
}

/** A guest's control folder made and QEMU's command line, ready to start. */
interface StagedGuest {
  /** guest.env, job.sh and the guest's /etc; removed when the run ends. */
  ctlDir: string;
  /** The word /init's console markers carry: the job's output cannot fake them. */
  nonce: string;
  root: GuestRoot;
  /** How many of root.shares are the system's folders (the rest are the job's). */
  systemFolders: number;
  qemu: string;
  cmd: string;
  args: string[];
  /** Added to QEMU's environment. */
  env: Record<string, string>;
}

function stageGuest(kernel: LabKernel, job: GuestJob, accel: AccelUsed, opts: GuestOptions): StagedGuest {
  let base = tmpdir();
  if (/\s/.test(base)) base = '/tmp';
  const ctlDir = mkdtempSync(join(base, 'alloc-balance-vm-'));
  opts.onControlDir?.(ctlDir);
  const nonce = randomBytes(8).toString('hex');
  const view = systemView();
  const root = guestRoot(view, job, kernel.modulesDir);
  stageEtc(view, join(ctlDir, 'etc'));
  writeFileSync(join(ctlDir, 'guest.env'), guestEnvFile(job.outDir, nonce, root, kernel.modulesDir));
  writeFileSync(join(ctlDir, 'job.sh'), jobScript(job));

  const args = qemuArgs({
    vmlinux: kernel.vmlinux,
    initrd: kernel.initrd,
    accel: accel.kind,
    memoryMb: opts.memoryMb ?? defaultNumber('vm-memory'),
    cpus: opts.cpus ?? defaultNumber('vm-cpus'),
    outDir: job.outDir,
    ctlDir,
    shares: root.shares,
    extraAppend: opts.extraAppend,
    nics: opts.nics,
    dataDirs: opts.qemu?.dataDirs,
  });
  const qemu = opts.qemu?.binary ?? 'qemu-system-x86_64';
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const [cmd, cmdArgs] = setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', qemu, ...args]] : [qemu, args];
  return { ctlDir, nonce, root, systemFolders: view.folders.length, qemu, cmd, args: cmdArgs, env: opts.qemu?.env ?? {} };
}

/** What one QEMU run was seen to do: how it ended, the console's state, and when things happened. */
export interface QemuRunSeen {
  qemu: string;
  /** QEMU's exit code (null when killed). */
  qemuExit: number | null;
  /** QEMU could not be started. */
  spawnError: string | null;
  /** The beginning of QEMU's stderr. */
  stderr: string;
  console: Pick<ConsoleWatch, 'initSeen' | 'kernelPanic' | 'setupFailure' | 'exitCode'> & { text: string; excerpt: string };
  /** Seconds since QEMU started: /init, the job's start and end (null when not seen), QEMU's exit. */
  at: { init: number | null; jobStart: number | null; jobEnd: number | null; total: number };
  /** The job outlived its timeout and the VM was killed. */
  timedOut: boolean;
  /** The job's own deadline in its out folder ran out (guest-watchdog.ts) and the VM was killed; timedOut too. */
  stalled: boolean;
  /** The job had not started within the boot timeout and the VM was killed. */
  bootTimedOut: boolean;
  /** The caller's signal stopped the VM. */
  aborted: boolean;
}

/**
 * Starts QEMU and follows its console until it exits: the boot timeout until the job starts, the
 * job's timeout from then, a grace for QEMU to power off after the job ends or the kernel panics,
 * and a kill (SIGTERM, then SIGKILL) for whichever runs out first or for the caller's abort.
 */
async function watchQemu(staged: StagedGuest, job: GuestJob, bootTimeoutSeconds: number, opts: GuestOptions): Promise<QemuRunSeen> {
  const since = stopwatch();
  const at: QemuRunSeen['at'] = { init: null, jobStart: null, jobEnd: null, total: 0 };
  let timedOut = false;
  let stalled = false;
  let poll: NodeJS.Timeout | undefined;
  let bootTimedOut = false;
  let aborted = false;

  const consoleLog = createWriteStream(join(job.outDir, 'console.log'));
  const child: ChildProcessWithoutNullStreams = spawn(staged.cmd, staged.args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...staged.env },
  });
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  let exited = false;
  let killing = false;
  const stop = () => {
    if (killing || exited) return;
    killing = true;
    child.kill('SIGTERM');
    later(KILL_GRACE_MS, () => {
      if (!exited) child.kill('SIGKILL');
    });
  };

  const watch = new ConsoleWatch(staged.nonce, {
    init: () => {
      at.init = since();
    },
    jobStart: () => {
      at.jobStart = since();
      clearTimeout(bootTimer);
      later(job.timeoutSeconds * 1000, () => {
        if (watch.exitCode === null && !watch.kernelPanic) {
          timedOut = true;
          stop();
        }
      });
      poll = setInterval(() => {
        if (watch.exitCode === null && !watch.kernelPanic && watchdogFired(job.outDir)) {
          clearInterval(poll);
          timedOut = true;
          stalled = true;
          stop();
        }
      }, WATCHDOG_POLL_MS);
    },
    jobExit: () => {
      at.jobEnd = since();
      later(POWEROFF_GRACE_MS, stop);
    },
    setupFailed: () => later(POWEROFF_GRACE_MS, stop),
    panic: () => later(POWEROFF_GRACE_MS, stop),
  });
  const bootTimer = later(bootTimeoutSeconds * 1000, () => {
    bootTimedOut = true;
    stop();
  });
  const onAbort = () => {
    aborted = true;
    stop();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const decoder = new StringDecoder('utf8');
  const feed = (text: string) => {
    if (!text) return;
    watch.push(text);
    consoleLog.write(text);
    opts.onConsole?.(text);
  };
  child.stdout.on('data', (b: Buffer) => feed(decoder.write(b)));
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 16384) stderr += b.toString('utf8');
  });

  let spawnError: string | null = null;
  const qemuExit = await new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code) => resolve(code));
  });
  exited = true;
  feed(decoder.end());
  watch.end();
  for (const t of timers) clearTimeout(t);
  clearInterval(poll);
  opts.signal?.removeEventListener('abort', onAbort);
  await new Promise<void>((resolve) => consoleLog.end(resolve));
  at.total = since();
  return {
    qemu: staged.qemu,
    qemuExit,
    spawnError,
    stderr,
    console: {
      initSeen: watch.initSeen,
      kernelPanic: watch.kernelPanic,
      setupFailure: watch.setupFailure,
      exitCode: watch.exitCode,
      text: watch.text(),
      excerpt: watch.excerpt(),
    },
    at,
    timedOut,
    stalled,
    bootTimedOut,
    aborted,
  };
}

/**
 * Pure: what a QEMU run comes to: the job's result, or a GuestError when the lab itself failed
 * (QEMU did not start, the guest never reached /init or the job, /init could not set it up).
 * `exitFile` is the exit-code file the job left in outDir (read when the console lost the marker).
 */
export function guestOutcome(seen: QemuRunSeen, bootTimeoutSeconds: number, exitFile: string | null): Omit<GuestResult, 'accel' | 'shared' | 'removedFromOut'> {
  const { console: c, at } = seen;
  if (seen.spawnError) throw new GuestError(`cannot start ${seen.qemu}: ${seen.spawnError}`, c.text);
  let code = c.exitCode;
  if (code === null && at.jobStart !== null && !seen.timedOut && !c.kernelPanic && exitFile !== null) code = Number(exitFile.trim());
  if (!c.initSeen && c.kernelPanic) {
    throw new GuestError(`the VM's kernel panicked before reaching /init: ${firstLine(c.excerpt, /Kernel panic.*/)}`, c.text);
  }
  if (!c.kernelPanic) {
    if (c.setupFailure) throw new GuestError(`the VM could not set up the job: ${c.setupFailure}`, c.text);
    if (!c.initSeen) {
      const why = seen.bootTimedOut
        ? `did not reach /init within ${bootTimeoutSeconds} s (raise the boot timeout for slow kernels)`
        : `exited (code ${seen.qemuExit}) before reaching /init: ${lastLines(seen.stderr, 3, ' | ') || 'no error from QEMU'}`;
      const last = lastLines(c.text, 5, ' | ');
      throw new GuestError(`the VM ${why}${last ? `; console: ${last}` : ''}`, c.text);
    }
    if (at.jobStart === null) {
      throw new GuestError(
        seen.bootTimedOut
          ? `the VM reached /init but did not start the job within ${bootTimeoutSeconds} s`
          : `the VM stopped before starting the job (QEMU exit ${seen.qemuExit})`,
        c.text,
      );
    }
  }
  const runEnd = at.jobEnd ?? at.total;
  return {
    exitCode: seen.timedOut || c.kernelPanic ? null : code,
    timedOut: seen.timedOut,
    stalled: seen.stalled,
    kernelPanic: c.kernelPanic,
    panicExcerpt: c.excerpt,
    console: c.text,
    seconds: {
      boot: round(at.init ?? at.total),
      setup: round(at.jobStart === null || at.init === null ? 0 : at.jobStart - at.init),
      run: round(at.jobStart === null ? 0 : runEnd - at.jobStart),
      total: round(at.total),
    },
  };
}

/** The guest's root: the system, then the job's folders (and the lab's modules) that the system does not hold. */
export function guestRoot(view: SystemView, job: Pick<GuestJob, 'shares' | 'outDir'>, modulesDir = ''): GuestRoot {
  const wanted = [...(job.shares ?? []), modulesDir].filter((p) => p !== '' && !isWithin(p, job.outDir));
  return { links: view.links, shares: [...view.folders, ...distinctFolders(wanted, view.folders)] };
}

/** The allow-listed /etc entries, copied as they are (links stay links) for the guest's /etc. */
function stageEtc(view: SystemView, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of view.etc) {
    try {
      cpSync(entry, join(dir, entry.slice('/etc/'.length)), { recursive: true, verbatimSymlinks: true, errorOnExist: false });
    } catch {
      // unreadable or vanished: the guest does without it
    }
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function firstLine(text: string, re: RegExp): string {
  return re.exec(text)?.[0] ?? lastLines(text, 1);
}
