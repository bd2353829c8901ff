// Where the kernel-side job runs: this machine's own kernel (`host`, root or passwordless sudo),
// or a VM booted for the job (`vm`). Both run the same `alloc-balance target run --job FILE`.
import { chooseQemu, type QemuChoice, readLabQemu, systemQemuVersion } from '../lab/lab-qemu.js';
import { describeNics, NIC_MODELS } from '../lab/vm-nics.js';
import { spawnRunner } from '../lab/command.js';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { release as osRelease } from 'node:os';
import type { AccelUsed, RunStatus } from '../core/model.js';
import { udevChangeAllowed } from '../lab/kvm-access.js';
import { hostAccel } from '../lab/kvm-host.js';
import { findLabKernel, labDirOf, type LabKernel } from '../lab/lab-kernel.js';
import { accelText } from '../report/labels.js';
import { runInGuest, GuestError, type GuestResult } from '../lab/run-in-guest.js';
import type { VmSettings } from '../settings/settings.js';
import { UsageError } from '../errors.js';
import { installPrefix } from '../sandbox/system-view.js';
import { asRoot, currentIdentity } from '../process/as-root.js';
import { runCommand } from '../process/run.js';
import { lastChars } from '../process/tail.js';

export interface TargetOutcome {
  exitCode: number | null;
  /** The run failed around the job (VM panic, timeout, lab failure): this decides the side's status. */
  failure?: { status: RunStatus; reason: string; excerpt?: string };
  /** Output of the job (console or stderr), capped. */
  output: string;
  timings: Record<string, number>;
  /** target: vm: the accelerator the VM ran under. */
  accel?: AccelUsed;
}

/** The target kernel as a build sees it: its Kbuild dir, and the tree that dir's links and includes point into. */
export interface TargetKernel {
  release: string;
  buildDir: string;
  buildTree?: string;
  /** The kernel's own modules (a lab kernel's, shared with its VM); absent: the machine's, by name. */
  modulesDir?: string;
}

export interface TargetRunner {
  kernel: TargetKernel;
  describe(): string;
  /** `shares`: host folders the job needs besides outDir (the tree, the module, a preset's program); a VM shows it nothing else. */
  run(jobFile: string, outDir: string, cwd: string, shares: string[]): Promise<TargetOutcome>;
}

export interface RunnerOptions {
  /** The bundled CLI (dist/cli.js) and the node that runs it. */
  cliPath: string;
  nodePath: string;
  signal?: AbortSignal;
  onOutput?: (text: string) => void;
  /** Told each temporary folder as it is made (a VM's control files), for the post step to remove after a kill. */
  onTempDir?: (dir: string) => void;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** Where relative vm-folders lie (the repository checkout). */
  workspace?: string;
  /** The process environment: under GitHub Actions the VM target may change udev to open /dev/kvm (kvm-access.ts). */
  env?: NodeJS.ProcessEnv;
}

/** Where and how long the kernel-side job runs. */
interface LaunchPlan {
  target: 'host' | 'vm';
  /** The job's own deadline (it stops, restores the kernel and says so in its status). */
  timeoutMinutes: number;
  vm: VmSettings;
}

/**
 * The VM is killed only this long after the job's own deadline: the job inside ends itself first
 * and leaves its status and trace; the kill is for a guest that no longer answers.
 */
const VM_DEADLINE_GRACE_SECONDS = 30;

/** Characters of the job's output kept (its end). */
const OUTPUT_CAP = 64 * 1024;

export class VmTargetRunner implements TargetRunner {
  readonly kernel: TargetKernel;
  private chosen?: AccelUsed;

  constructor(
    private readonly lab: LabKernel,
    private readonly launch: Pick<LaunchPlan, 'timeoutMinutes' | 'vm'>,
    private readonly opts: RunnerOptions,
  ) {
    this.kernel = { release: lab.release, buildDir: lab.buildDir, buildTree: lab.buildTree, modulesDir: lab.modulesDir };
  }

  /** Chosen on first use and kept: /dev/kvm is opened with udev at most once. */
  accel(): AccelUsed {
    this.chosen ??= hostAccel(udevChangeAllowed(this.opts.env ?? {}), (line) => this.opts.log?.(line));
    return this.chosen;
  }

  describe(): string {
    const nics = this.launch.vm.nics ? ` with ${describeNics(this.launch.vm.nics)}` : '';
    return `a VM running ${this.lab.release} under ${accelText(this.accel())}${nics}`;
  }

  /** The runner's QEMU, unless an emulated NIC needs a newer one: then the lab's (`lab setup --qemu`). */
  private async qemu(): Promise<{ qemu?: QemuChoice } | { problem: string }> {
    const nics = this.launch.vm.nics;
    if (!nics) return {};
    const found = chooseQemu(NIC_MODELS[nics.model].minQemu, await systemQemuVersion(spawnRunner), readLabQemu(labDirOf(this.lab)));
    if ('problem' in found) {
      return {
        problem: `vm-nics: ${nics.model} needs a newer QEMU: ${found.problem}. Prepare one: sudo alloc-balance lab setup --qemu --dir ${labDirOf(this.lab)}`,
      };
    }
    this.opts.log?.(
      `QEMU ${found.qemu.version} (${found.qemu.source === 'runner' ? "the runner's" : "the lab's, from Debian's backports"}): ${found.qemu.binary}`,
    );
    return found;
  }

  async run(jobFile: string, outDir: string, cwd: string, shares: string[]): Promise<TargetOutcome> {
    const accel = this.accel();
    const outcome = await this.runWith(accel, jobFile, outDir, cwd, shares);
    return { ...outcome, accel };
  }

  private async runWith(accel: AccelUsed, jobFile: string, outDir: string, cwd: string, shares: string[]): Promise<TargetOutcome> {
    try {
      // The job's own program: node's installation and the bundle's folder, nothing else of the action's checkout.
      const tool = [installPrefix(this.opts.nodePath), dirname(this.opts.cliPath)];
      const asked = this.launch.vm.folders.map((f) => resolve(this.opts.workspace ?? process.cwd(), f));
      const missing = asked.filter((f) => !existsSync(f));
      if (missing.length > 0) {
        return notRun('setup-failed', `vm-folders: ${missing.join(', ')} does not exist on this machine (give folders that an earlier step made)`);
      }
      const qemu = await this.qemu();
      if ('problem' in qemu) return notRun('setup-failed', qemu.problem);
      const r = await runInGuest(
        this.lab,
        {
          argv: [this.opts.nodePath, this.opts.cliPath, 'target', 'run', '--job', jobFile],
          cwd,
          outDir,
          shares: [...shares, ...asked, ...tool, dirname(jobFile)],
          timeoutSeconds: this.launch.timeoutMinutes * 60 + VM_DEADLINE_GRACE_SECONDS,
        },
        {
          signal: this.opts.signal,
          memoryMb: this.launch.vm.memoryMb,
          cpus: this.launch.vm.cpus,
          bootTimeoutSeconds: this.launch.vm.bootTimeoutSeconds,
          accel,
          onConsole: this.opts.onOutput,
          onControlDir: this.opts.onTempDir,
          nics: this.launch.vm.nics,
          qemu: qemu.qemu,
        },
      );
      this.opts.log?.(`the VM saw the system (/usr, an allow-list of /etc) and ${r.shared.join(', ')}; nothing else of this machine`);
      if (r.removedFromOut.length > 0) {
        this.opts.warn?.(`the guest left what a report must not follow in ${outDir}, removed before reading it: ${r.removedFromOut.join(', ')}`);
      }
      return guestOutcome(r, { aborted: this.opts.signal?.aborted ?? false, timeoutMinutes: this.launch.timeoutMinutes });
    } catch (e) {
      if (this.opts.signal?.aborted) return notRun('cancelled', 'the run was cancelled');
      if (e instanceof GuestError) {
        return {
          exitCode: null,
          timings: {},
          output: lastChars(e.console, OUTPUT_CAP),
          failure: { status: 'setup-failed', reason: e.message, excerpt: lastChars(e.console, 4000) },
        };
      }
      throw e;
    }
  }
}

/** A job that never ran: why, and no output. */
function notRun(status: RunStatus, reason: string): TargetOutcome {
  return { exitCode: null, timings: {}, output: '', failure: { status, reason } };
}

/**
 * Pure: what a VM's run comes to for the side: the job's exit code, or a crash (panic, oops, soft
 * lockup), a cancellation, a guest that stopped renewing its deadline, or the run's timeout.
 */
export function guestOutcome(r: GuestResult, o: { aborted: boolean; timeoutMinutes: number }): TargetOutcome {
  const timings = { boot: r.seconds.boot, guestSetup: r.seconds.setup, vm: r.seconds.total };
  const output = lastChars(r.console, OUTPUT_CAP);
  if (r.kernelPanic) {
    const reason = /soft lockup/.test(r.panicExcerpt)
      ? 'a CPU of the kernel locked up (soft lockup) during the run'
      : 'the kernel crashed (panic or oops) during the run';
    return { exitCode: r.exitCode, timings, output, failure: { status: 'kernel-splat', reason, excerpt: r.panicExcerpt } };
  }
  if (!r.timedOut) return { exitCode: r.exitCode, timings, output };
  const excerpt = lastChars(r.console, 4000);
  const failure: TargetOutcome['failure'] = o.aborted
    ? { status: 'cancelled', reason: 'the run was cancelled' }
    : r.stalled
      ? { status: 'timeout', reason: 'the guest stopped answering: the job did not renew its own deadline', excerpt }
      : { status: 'timeout', reason: `the run took longer than timeout-minutes (${o.timeoutMinutes})`, excerpt };
  return { exitCode: null, timings, output, failure };
}

/** Kbuild dir of the running kernel, from its headers package. */
function hostBuildDir(release: string): string {
  const dir = `/lib/modules/${release}/build`;
  if (!existsSync(dir)) {
    throw new UsageError(`target host: no kernel headers for the running kernel ${release} (${dir} is missing): install linux-headers-${release}`);
  }
  return dir;
}

class HostTargetRunner implements TargetRunner {
  readonly kernel: TargetKernel;

  constructor(
    private readonly opts: RunnerOptions,
    release = osRelease(),
  ) {
    this.kernel = { release, buildDir: hostBuildDir(release) };
  }

  describe(): string {
    return `this machine's kernel ${this.kernel.release}`;
  }

  async run(jobFile: string, _outDir: string, cwd: string, _shares: string[]): Promise<TargetOutcome> {
    const who = currentIdentity();
    const [cmd, ...args] = asRoot([this.opts.nodePath, this.opts.cliPath, 'target', 'run', '--job', jobFile], who);
    const r = await runCommand(cmd, args, { cwd, maxOutput: OUTPUT_CAP, signal: this.opts.signal, onOutput: this.opts.onOutput });
    if (r.spawnError !== undefined) {
      // Node's own words for a program it could not start.
      const why = `spawn ${cmd} ${r.spawnError}`;
      return { exitCode: null, output: r.output, timings: {}, failure: { status: 'setup-failed', reason: `could not start the kernel-side run: ${why}` } };
    }
    if (who.uid !== 0 && r.code === 1 && /sudo: a password is required/.test(r.output)) {
      return {
        exitCode: r.code,
        output: r.output,
        timings: {},
        failure: {
          status: 'setup-failed',
          reason: 'target host needs root: run the runner as root or allow passwordless sudo for node (see docs/self-hosted-runner.md)',
        },
      };
    }
    return { exitCode: r.code, output: r.output, timings: {} };
  }
}

/** `lab`: the VM target's kernel, when the caller prepared it (otherwise the lab must hold it already). */
export function createTargetRunner(launch: LaunchPlan, opts: RunnerOptions, lab?: LabKernel): TargetRunner {
  if (launch.target === 'host') return new HostTargetRunner(opts);
  return new VmTargetRunner(lab ?? findLabKernel(launch.vm.kernel), launch, opts);
}
