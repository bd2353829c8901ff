// The VM's accelerator: KVM only when /dev/kvm opens read-write on a CPU with vmx/svm; the udev
// rule that opens /dev/kvm to the runner's user only under GitHub Actions and with root or
// passwordless sudo; otherwise software emulation with the reason.
import { describe, expect, test } from 'vitest';
import {
  KVM_UDEV_RULE,
  KVM_UDEV_RULE_FILE,
  TCG_NO_DEVICE,
  TCG_NO_ESCALATION,
  TCG_NO_VIRTUALIZATION,
  TCG_NOT_ON_ACTIONS,
  chooseAccel,
  cpuFlags,
  decideAccel,
  decideAfterUdev,
  kvmUdevCommands,
  udevChangeAllowed,
  type KvmFacts,
  type KvmIo,
} from '../../src/lab/kvm-access.js';

const HOSTED: KvmFacts = { exists: true, writable: false, cpuFlags: ['fpu', 'vmx', 'sse2'], canEscalate: true, mayChangeUdev: true };

describe('decideAccel', () => {
  test('no /dev/kvm: tcg', () => {
    expect(decideAccel({ ...HOSTED, exists: false })).toEqual({ accel: { kind: 'tcg', why: TCG_NO_DEVICE } });
    expect(TCG_NO_DEVICE).toBe('no /dev/kvm');
  });

  test('/dev/kvm open to root but a CPU without vmx/svm (a guest without nested virtualization): tcg, and no udev change', () => {
    expect(decideAccel({ ...HOSTED, writable: true, cpuFlags: ['fpu', 'hypervisor'] })).toEqual({ accel: { kind: 'tcg', why: TCG_NO_VIRTUALIZATION } });
    expect(decideAccel({ ...HOSTED, cpuFlags: [] })).toEqual({ accel: { kind: 'tcg', why: TCG_NO_VIRTUALIZATION } });
    expect(TCG_NO_VIRTUALIZATION).toBe('the CPU offers no vmx/svm (nested virtualization off)');
  });

  test('writable on a CPU with vmx or svm: kvm', () => {
    expect(decideAccel({ ...HOSTED, writable: true })).toEqual({ accel: { kind: 'kvm', why: '/dev/kvm read-write, CPU with vmx' } });
    expect(decideAccel({ ...HOSTED, writable: true, cpuFlags: ['svm'], mayChangeUdev: false, canEscalate: false })).toEqual({
      accel: { kind: 'kvm', why: '/dev/kvm read-write, CPU with svm' },
    });
  });

  test('not writable under GitHub Actions with root or passwordless sudo: open it with the udev rule', () => {
    expect(decideAccel(HOSTED)).toEqual({ openWithUdev: true });
  });

  test('not writable and no way to root: tcg, saying so', () => {
    expect(decideAccel({ ...HOSTED, canEscalate: false })).toEqual({ accel: { kind: 'tcg', why: TCG_NO_ESCALATION } });
    expect(TCG_NO_ESCALATION).toBe('/dev/kvm not writable and no root or passwordless sudo to open it');
  });

  test('not writable outside GitHub Actions: tcg, udev left alone even with root', () => {
    expect(decideAccel({ ...HOSTED, mayChangeUdev: false })).toEqual({ accel: { kind: 'tcg', why: TCG_NOT_ON_ACTIONS } });
  });

  test('after the udev rule: kvm when /dev/kvm now opens, else tcg with the failure', () => {
    expect(decideAfterUdev(true, null)).toEqual({ kind: 'kvm', why: `/dev/kvm opened to this user by the udev rule ${KVM_UDEV_RULE_FILE}` });
    expect(decideAfterUdev(false, null)).toEqual({ kind: 'tcg', why: `/dev/kvm still not writable after the udev rule ${KVM_UDEV_RULE_FILE}` });
    expect(decideAfterUdev(false, 'sudo -n udevadm control --reload-rules: Failed to send reload request')).toEqual({
      kind: 'tcg',
      why: '/dev/kvm not writable and the udev rule to open it failed: sudo -n udevadm control --reload-rules: Failed to send reload request',
    });
  });
});

test('udev is changed only under GitHub Actions (GITHUB_ACTIONS=true): never for the test suite or the demo on a developer machine', () => {
  expect(udevChangeAllowed({})).toBe(false);
  expect(udevChangeAllowed({ CI: 'true' })).toBe(false);
  expect(udevChangeAllowed({ GITHUB_ACTIONS: 'false' })).toBe(false);
  expect(udevChangeAllowed({ GITHUB_ACTIONS: 'true' })).toBe(true);
});

test('cpu flags from /proc/cpuinfo', () => {
  const cpuinfo = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse vmx ept\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu\n';
  expect(cpuFlags(cpuinfo)).toEqual(['fpu', 'vme', 'de', 'pse', 'vmx', 'ept']);
  expect(cpuFlags('processor\t: 0\nFeatures\t: fp asimd\n')).toEqual([]);
  expect(cpuFlags('')).toEqual([]);
});

test('the udev change: the rule written with tee, rules reloaded, /dev/kvm triggered, udev settled; through sudo -n unless root', () => {
  expect(KVM_UDEV_RULE_FILE).toBe('/etc/udev/rules.d/99-alloc-balance-kvm.rules');
  expect(KVM_UDEV_RULE).toBe('KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"');
  expect(kvmUdevCommands({ uid: 1001, gid: 118 })).toEqual([
    { argv: ['sudo', '-n', 'tee', KVM_UDEV_RULE_FILE], input: `${KVM_UDEV_RULE}\n` },
    { argv: ['sudo', '-n', 'udevadm', 'control', '--reload-rules'] },
    { argv: ['sudo', '-n', 'udevadm', 'trigger', '--name-match=kvm'] },
    { argv: ['sudo', '-n', 'udevadm', 'settle', '--timeout=10'] },
  ]);
  expect(kvmUdevCommands({ uid: 0, gid: 0 }).map((c) => c.argv[0])).toEqual(['tee', 'udevadm', 'udevadm', 'udevadm']);
});

/** A host as chooseAccel sees it; records what it was asked to do. */
function fakeHost(host: { exists?: boolean; writable?: boolean; flags?: string[]; escalate?: boolean; udev?: 'opens' | 'no-effect' | string }) {
  const calls: string[] = [];
  const lines: string[] = [];
  let opened = false;
  const io: KvmIo = {
    exists: () => host.exists ?? true,
    writable: () => (host.writable ?? false) || opened,
    cpuFlags: () => host.flags ?? ['vmx'],
    canEscalate: () => {
      calls.push('canEscalate');
      return host.escalate ?? true;
    },
    openWithUdev: () => {
      calls.push('openWithUdev');
      if (host.udev === 'opens') opened = true;
      return host.udev === 'opens' || host.udev === 'no-effect' ? null : (host.udev ?? 'not expected');
    },
    log: (line) => lines.push(line),
  };
  return { io, calls, lines };
}

describe('chooseAccel', () => {
  test('outside GitHub Actions it neither asks for sudo nor touches udev', () => {
    const h = fakeHost({ udev: 'opens' });
    expect(chooseAccel(h.io, false)).toEqual({ kind: 'tcg', why: TCG_NOT_ON_ACTIONS });
    expect(h.calls).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  test('a hosted runner: the udev rule opens /dev/kvm, then kvm, with one log line', () => {
    const h = fakeHost({ udev: 'opens' });
    expect(chooseAccel(h.io, true)).toEqual({ kind: 'kvm', why: `/dev/kvm opened to this user by the udev rule ${KVM_UDEV_RULE_FILE}` });
    expect(h.calls).toEqual(['canEscalate', 'openWithUdev']);
    expect(h.lines).toEqual([`KVM: /dev/kvm was not writable by this user; wrote ${KVM_UDEV_RULE_FILE} (mode 0666) and reloaded udev: VMs run under KVM`]);
  });

  test('the udev change failing or not taking effect: tcg with why, logged', () => {
    const failed = fakeHost({ udev: 'udevadm control --reload-rules: Failed to send reload request: No such file or directory' });
    const accel = chooseAccel(failed.io, true);
    expect(accel).toEqual({
      kind: 'tcg',
      why: '/dev/kvm not writable and the udev rule to open it failed: udevadm control --reload-rules: Failed to send reload request: No such file or directory',
    });
    expect(failed.lines).toEqual([`KVM: ${accel.why}: VMs run under software emulation (TCG)`]);
    expect(chooseAccel(fakeHost({ udev: 'no-effect' }).io, true).why).toBe(`/dev/kvm still not writable after the udev rule ${KVM_UDEV_RULE_FILE}`);
  });

  test('no vmx, or no /dev/kvm, or already writable: no udev change even under GitHub Actions', () => {
    for (const host of [{ flags: ['fpu'] }, { exists: false }, { writable: true }]) {
      const h = fakeHost(host);
      chooseAccel(h.io, true);
      expect(h.calls).not.toContain('openWithUdev');
    }
    expect(chooseAccel(fakeHost({ flags: ['fpu'], writable: true }).io, true)).toEqual({ kind: 'tcg', why: TCG_NO_VIRTUALIZATION });
    expect(chooseAccel(fakeHost({ escalate: false }).io, true)).toEqual({ kind: 'tcg', why: TCG_NO_ESCALATION });
  });
});
