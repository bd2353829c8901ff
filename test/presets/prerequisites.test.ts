// The DPDK build's prerequisites: what each plan needs, what is missing, how the message reads.
import { describe, expect, test } from 'vitest';
import type { BuildPlan } from '../../src/module-build/build-plan.js';
import { describeMissing, machineProbe, missingRequirements, requirementsOf, type Probe } from '../../src/presets/prerequisites.js';

const plan = (kind: BuildPlan['kind']): BuildPlan => ({ kind, description: kind, steps: [], env: {}, output: '/x' });
const probe = (have: string[]): Probe => ({
  program: (n) => have.includes(n),
  pythonModule: (n) => have.includes(`py:${n}`),
  header: (n) => have.includes(`h:${n}`),
});

describe('DPDK build prerequisites', () => {
  test('a meson user-space build needs meson, ninja, pkg-config, pyelftools and libnuma; a Kbuild module only make and cc', () => {
    const names = (rs: ReturnType<typeof requirementsOf>) => rs.map((r) => r.name).sort();
    expect(names(requirementsOf([{ plan: plan('meson'), userspace: true }]))).toEqual(['cc', 'elftools', 'make', 'meson', 'ninja', 'numaif.h', 'pkg-config']);
    expect(names(requirementsOf([{ plan: plan('kbuild'), userspace: false }]))).toEqual(['cc', 'make']);
    expect(
      names(
        requirementsOf([
          { plan: plan('make'), userspace: true },
          { plan: plan('kbuild'), userspace: false },
        ]),
      ),
    ).toEqual(['cc', 'make', 'numaif.h']);
  });

  test('what is missing is named with the packages that install it', () => {
    const reqs = requirementsOf([
      { plan: plan('meson'), userspace: true },
      { plan: plan('meson'), userspace: false },
    ]);
    const missing = missingRequirements(reqs, probe(['make', 'cc', 'pkg-config', 'h:numaif.h']));
    expect(describeMissing(missing)).toBe(
      'the DPDK build needs meson, ninja, pyelftools (the python3 module elftools), which are not ' +
        'installed: sudo apt-get install -y meson ninja-build python3-pyelftools',
    );
    expect(missingRequirements(reqs, probe(['make', 'cc', 'pkg-config', 'meson', 'ninja', 'py:elftools', 'h:numaif.h']))).toEqual([]);
  });

  test('the machine probe finds what this machine has and not what it lacks', () => {
    const p = machineProbe();
    expect(p.program('sh')).toBe(true);
    expect(p.program('no-such-program-anywhere')).toBe(false);
    expect(p.header('stdio.h')).toBe(true);
    expect(p.header('no_such_header_anywhere.h')).toBe(false);
    expect(p.pythonModule('json')).toBe(true);
    expect(p.pythonModule('no_such_module_anywhere')).toBe(false);
    // An empty PATH: nothing is found, however it is installed.
    expect(machineProbe({ PATH: '' }).program('sh')).toBe(false);
  });
});
