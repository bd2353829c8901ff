// Which accelerator a lab VM runs under, and why: KVM when this user can open /dev/kvm and the CPU
// offers hardware virtualization, otherwise QEMU's software emulation (TCG). GitHub-hosted x86
// runners have /dev/kvm, but their `runner` user cannot open it until a udev rule makes it
// world-usable (what virtme-ng's and libbpf/ci's workflows do); the rule is written only under
// GitHub Actions, never on a developer's machine. The decision is pure; the probes are injected.
import type { AccelUsed } from '../core/model.js';
import { asRoot, type Identity } from '../process/as-root.js';

export const KVM_DEVICE = '/dev/kvm';
export const KVM_UDEV_RULE_FILE = '/etc/udev/rules.d/99-alloc-balance-kvm.rules';
export const KVM_UDEV_RULE = 'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"';

export const TCG_NO_DEVICE = `no ${KVM_DEVICE}`;
export const TCG_NO_VIRTUALIZATION = 'the CPU offers no vmx/svm (nested virtualization off)';
export const TCG_NO_ESCALATION = `${KVM_DEVICE} not writable and no root or passwordless sudo to open it`;
export const TCG_NOT_ON_ACTIONS = `${KVM_DEVICE} not writable by this user, and udev is changed only under GitHub Actions (give this user read-write access to ${KVM_DEVICE}, e.g. its group)`;

/** What the host offers, as probed (see kvm-host.ts). */
export interface KvmFacts {
  /** /dev/kvm is there. */
  exists: boolean;
  /** This process opens /dev/kvm read-write. */
  writable: boolean;
  /** The CPU's flags (from the `flags` line of /proc/cpuinfo). */
  cpuFlags: string[];
  /** Root, or passwordless `sudo -n`: the udev rule can be written. */
  canEscalate: boolean;
  /** Changing udev is allowed here (udevChangeAllowed). */
  mayChangeUdev: boolean;
}

/** Use this accelerator, or first open /dev/kvm with the udev rule and probe again. */
type KvmDecision = { accel: AccelUsed } | { openWithUdev: true };

/** Only under GitHub Actions: a developer's machine (the test suite, `alloc-balance demo`) keeps its udev rules. */
export function udevChangeAllowed(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** The flags of the first CPU in /proc/cpuinfo; [] when there is no flags line. */
export function cpuFlags(cpuinfo: string): string[] {
  const m = /^flags\s*:(.*)$/m.exec(cpuinfo);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

function tcg(why: string): KvmDecision {
  return { accel: { kind: 'tcg', why } };
}

export function decideAccel(f: KvmFacts): KvmDecision {
  if (!f.exists) return tcg(TCG_NO_DEVICE);
  // Without vmx/svm /dev/kvm may still open (the kvm module loaded in a guest), but QEMU cannot start a VM on it.
  if (!f.cpuFlags.includes('vmx') && !f.cpuFlags.includes('svm')) return tcg(TCG_NO_VIRTUALIZATION);
  if (f.writable) return { accel: { kind: 'kvm', why: `${KVM_DEVICE} read-write, CPU with ${f.cpuFlags.includes('vmx') ? 'vmx' : 'svm'}` } };
  if (!f.mayChangeUdev) return tcg(TCG_NOT_ON_ACTIONS);
  if (!f.canEscalate) return tcg(TCG_NO_ESCALATION);
  return { openWithUdev: true };
}

/** After the udev rule: `failure` is why writing or applying it failed (null: it was applied). */
export function decideAfterUdev(writable: boolean, failure: string | null): AccelUsed {
  if (failure) return { kind: 'tcg', why: `${KVM_DEVICE} not writable and the udev rule to open it failed: ${failure}` };
  if (!writable) return { kind: 'tcg', why: `${KVM_DEVICE} still not writable after the udev rule ${KVM_UDEV_RULE_FILE}` };
  return { kind: 'kvm', why: `${KVM_DEVICE} opened to this user by the udev rule ${KVM_UDEV_RULE_FILE}` };
}

/** A command of the udev change: its argv (through sudo -n unless root) and its standard input. */
interface RootCommand {
  argv: string[];
  input?: string;
}

/** Write the rule, reload udev's rules, apply them to /dev/kvm and wait until udev is done. */
export function kvmUdevCommands(who: Identity): RootCommand[] {
  return [
    { argv: asRoot(['tee', KVM_UDEV_RULE_FILE], who), input: `${KVM_UDEV_RULE}\n` },
    { argv: asRoot(['udevadm', 'control', '--reload-rules'], who) },
    { argv: asRoot(['udevadm', 'trigger', '--name-match=kvm'], who) },
    { argv: asRoot(['udevadm', 'settle', '--timeout=10'], who) },
  ];
}

/** The probes and effects chooseAccel needs (real ones in kvm-host.ts). */
export interface KvmIo {
  exists(): boolean;
  writable(): boolean;
  cpuFlags(): string[];
  canEscalate(): boolean;
  /** Runs kvmUdevCommands; null when all succeeded, else why not. */
  openWithUdev(): string | null;
  log(line: string): void;
}

export function chooseAccel(io: KvmIo, mayChangeUdev: boolean): AccelUsed {
  const exists = io.exists();
  const facts: KvmFacts = {
    exists,
    writable: exists && io.writable(),
    cpuFlags: io.cpuFlags(),
    canEscalate: mayChangeUdev && io.canEscalate(),
    mayChangeUdev,
  };
  const first = decideAccel(facts);
  if ('accel' in first) return first.accel;
  const failure = io.openWithUdev();
  const accel = decideAfterUdev(!failure && io.writable(), failure);
  io.log(
    accel.kind === 'kvm'
      ? `KVM: ${KVM_DEVICE} was not writable by this user; wrote ${KVM_UDEV_RULE_FILE} (mode 0666) and reloaded udev: VMs run under KVM`
      : `KVM: ${accel.why}: VMs run under software emulation (TCG)`,
  );
  return accel;
}
