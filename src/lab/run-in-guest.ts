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
import type { AccelUsed } from '../core/model.js';
import { hostAccel } from './kvm-host.js';
import { qemuArgs } from './qemu-args.js';
import { defaultNumber } from '../settings/inputs.js';

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

export interface GuestOptions {
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
  qemuBinary?: string;
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
  const bootTimeoutMs = (opts.bootTimeoutSeconds ?? defaultNumber('boot-timeout')) * 1000;
  mkdirSync(job.outDir, { recursive: true });
  rmSync(join(job.outDir, EXIT_CODE_FILE), { force: true });

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
  });
  const qemu = opts.qemuBinary ?? 'qemu-system-x86_64';
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const [cmd, cmdArgs] = setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', qemu, ...args]] : [qemu, args];

  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  let initAt: number | null = null;
  let jobStartAt: number | null = null;
  let jobEndAt: number | null = null;
  let timedOut = false;
  let bootTimedOut = false;
  let aborted = false;

  const consoleLog = createWriteStream(join(job.outDir, 'console.log'));
  const child: ChildProcessWithoutNullStreams = spawn(cmd, cmdArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
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
  live++;
  let killing = false;
  const stop = () => {
    if (killing || exited) return;
    killing = true;
    child.kill('SIGTERM');
    later(KILL_GRACE_MS, () => {
      if (!exited) child.kill('SIGKILL');
    });
  };

  const watch = new ConsoleWatch(nonce, {
    init: () => {
      initAt = since();
    },
    jobStart: () => {
      jobStartAt = since();
      clearTimeout(bootTimer);
      later(job.timeoutSeconds * 1000, () => {
        if (watch.exitCode === null && !watch.kernelPanic) {
          timedOut = true;
          stop();
        }
      });
    },
    jobExit: () => {
      jobEndAt = since();
      later(POWEROFF_GRACE_MS, stop);
    },
    setupFailed: () => later(POWEROFF_GRACE_MS, stop),
    panic: () => later(POWEROFF_GRACE_MS, stop),
  });
  const bootTimer = later(bootTimeoutMs, () => {
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

  let spawnError: Error | null = null;
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code) => resolve(code));
  });
  exited = true;
  feed(decoder.end());
  watch.end();
  for (const t of timers) clearTimeout(t);
  opts.signal?.removeEventListener('abort', onAbort);
  live--;
  rmSync(ctlDir, { recursive: true, force: true });
  await new Promise<void>((resolve) => consoleLog.end(resolve));
  const removedFromOut = scrubGuestOutput(job.outDir);
  const total = since();

  const consoleText = watch.text();
  if (aborted) throw opts.signal?.reason ?? new Error('guest run aborted');
  if (spawnError) throw new GuestError(`cannot start ${qemu}: ${(spawnError as Error).message}`, consoleText);

  let code = watch.exitCode;
  if (code === null && jobStartAt !== null && !timedOut && !watch.kernelPanic) {
    const file = join(job.outDir, EXIT_CODE_FILE);
    if (existsSync(file)) code = Number(readFileSync(file, 'utf8').trim());
  }
  if (!watch.initSeen && watch.kernelPanic) {
    throw new GuestError(`the VM's kernel panicked before reaching /init: ${firstLine(watch.excerpt(), /Kernel panic.*/)}`, consoleText);
  }
  if (!watch.kernelPanic) {
    if (watch.setupFailure) throw new GuestError(`the VM could not set up the job: ${watch.setupFailure}`, consoleText);
    if (!watch.initSeen) {
      const why = bootTimedOut
        ? `did not reach /init within ${bootTimeoutMs / 1000} s (raise the boot timeout for slow kernels)`
        : `exited (code ${exitCode}) before reaching /init: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no error from QEMU'}`;
      const seen = tailLines(consoleText, 5);
      throw new GuestError(`the VM ${why}${seen ? `; console: ${seen}` : ''}`, consoleText);
    }
    if (jobStartAt === null) {
      throw new GuestError(
        bootTimedOut
          ? `the VM reached /init but did not start the job within ${bootTimeoutMs / 1000} s`
          : `the VM stopped before starting the job (QEMU exit ${exitCode})`,
        consoleText,
      );
    }
  }
  const runEnd = jobEndAt ?? total;
  return {
    exitCode: timedOut || watch.kernelPanic ? null : code,
    timedOut,
    kernelPanic: watch.kernelPanic,
    panicExcerpt: watch.excerpt(),
    console: consoleText,
    accel,
    shared: [...root.shares.slice(view.folders.length), job.outDir],
    removedFromOut,
    seconds: {
      boot: round(initAt ?? total),
      setup: round(jobStartAt === null || initAt === null ? 0 : jobStartAt - initAt),
      run: round(jobStartAt === null ? 0 : runEnd - jobStartAt),
      total: round(total),
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
  return re.exec(text)?.[0] ?? tailLines(text, 1);
}

function tailLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
