// The real probes and effects behind chooseAccel: /dev/kvm, /proc/cpuinfo, sudo and udevadm.
import { runSync } from '../process/run-sync.js';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import type { AccelUsed } from '../core/model.js';
import { type Identity, currentIdentity, throughSudo } from '../process/as-root.js';
import { KVM_DEVICE, chooseAccel, cpuFlags, kvmUdevCommands, type KvmIo } from './kvm-access.js';

const COMMAND_TIMEOUT_MS = 30_000;

function opensReadWrite(path: string): boolean {
  try {
    closeSync(openSync(path, 'r+'));
    return true;
  } catch {
    return false;
  }
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

function runAll(who: Identity): string | null {
  for (const c of kvmUdevCommands(who)) {
    const r = runSync(c.argv[0], c.argv.slice(1), { input: c.input, timeoutMs: COMMAND_TIMEOUT_MS });
    if (r.error) return `${c.argv.join(' ')}: ${r.error}`;
    if (r.status !== 0) return `${c.argv.join(' ')}: ${r.stderr.trim().split('\n').pop() || `exit ${r.status ?? r.signal}`}`;
  }
  return null;
}

/** Whether sudo runs a command without a password. */
const SUDO_TRUE = throughSudo(['true']);

export function hostKvmIo(who: Identity, log: (line: string) => void): KvmIo {
  return {
    exists: () => existsSync(KVM_DEVICE),
    writable: () => opensReadWrite(KVM_DEVICE),
    cpuFlags: () => cpuFlags(readCpuinfo()),
    canEscalate: () => who.uid === 0 || runSync(SUDO_TRUE[0], SUDO_TRUE.slice(1), { timeoutMs: COMMAND_TIMEOUT_MS }).ok,
    openWithUdev: () => runAll(who),
    log,
  };
}

/** This machine's accelerator for a lab VM; the udev rule is written only when `mayChangeUdev` (udevChangeAllowed). */
export function hostAccel(mayChangeUdev: boolean, log: (line: string) => void = () => {}): AccelUsed {
  return chooseAccel(hostKvmIo(currentIdentity(), log), mayChangeUdev);
}
