// The plan of one side, derived from the action's inputs: what the layers below run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { targetJob } from '../../src/run/side.js';
import { useTempDir } from '../support/temp-dir.js';
import { parseSettings } from '../../src/settings/settings.js';
import { sidePlan, tracingPlan } from '../../src/run/side-plan.js';
import type { SidePreparation } from '../../src/presets/side-preparation.js';

const settingsOf = (inputs: Record<string, string>) => parseSettings((name) => inputs[name] ?? '');

describe('sidePlan', () => {
  test('from the inputs alone: the module dir, build command, workload, cycles, track and tracing as given', () => {
    const s = settingsOf({
      'module-dir': 'kernel/linux/kni',
      'build-command': 'make -C $KDIR M=$PWD',
      'module-args': 'carrier=on',
      workload: './kni -p 0x3',
      'ready-pattern': '^ready',
      cycles: '7',
      track: 'kmalloc:kfree',
      'trace-buffer-kb': '4096',
      'timeout-minutes': '12',
    });
    const plan = sidePlan(s);
    expect(plan.build).toEqual({ moduleDir: 'kernel/linux/kni', buildCommand: 'make -C $KDIR M=$PWD', moduleArgs: 'carrier=on', moduleName: undefined });
    expect(plan.workload).toMatchObject({ command: './kni -p 0x3', readyPattern: '^ready', readyCommand: '', env: {} });
    expect(plan.cycles).toBe(7);
    expect(plan.track).toEqual([{ alloc: 'kmalloc', free: 'kfree' }]);
    expect(plan).toMatchObject({ traceBufferKb: 4096, stacks: s.stacks, timeoutSeconds: 720 });
    expect(plan.hugepages).toBeUndefined();
  });

  test("with a preset's preparation: its build, workload, readiness check, environment and hugepages", () => {
    const s = settingsOf({ workload: 'ignored', cycles: '2' });
    const prepared = {
      build: { moduleDir: '/t/dpdk', buildCommand: '', moduleArgs: 'kthread_mode=single', moduleName: 'rte_kni', output: '/w/rte_kni.ko' },
      workload: { ...s.workload, command: '/w/kni -l 0-1 -- -p 0x1', readyCommand: 'ip link show vEth0_0', env: { RTE_EAL: '1' } },
      hugepages: 256,
      userspace: { key: 'k', dir: '/cache/k', program: '/cache/k/bin/dpdk-kni' },
    } as unknown as SidePreparation;
    const plan = sidePlan(s, prepared);
    expect(plan.build).toBe(prepared.build);
    expect(plan.workload).toMatchObject({ command: '/w/kni -l 0-1 -- -p 0x1', readyCommand: 'ip link show vEth0_0', env: { RTE_EAL: '1' } });
    expect(plan.hugepages).toBe(256);
    expect(plan.cycles).toBe(2);
    // The cached program lies outside the tree: the VM must be shown its folder.
    expect(plan.guestFolders).toEqual(['/cache/k']);
  });

  test('without a track input: auto', () => {
    expect(sidePlan(settingsOf({ workload: 'x' })).track).toBe('auto');
  });

  test('the tracing every run shares (sides and canary)', () => {
    expect(tracingPlan(settingsOf({ workload: 'x', 'timeout-minutes': '3', stacks: 'false' }))).toEqual({
      traceBufferKb: settingsOf({ workload: 'x' }).traceBufferKb,
      stacks: false,
      timeoutSeconds: 180,
    });
  });
});

describe('the job of a side with NICs to bind', () => {
  const work = useTempDir('ab-side-nics-');

  test("loads uio and the driver from a lab kernel's modules (compressed or not) or from the tree's build, by name on the runner's own kernel", () => {
    const s = settingsOf({ workload: './app', 'vm-nics': 'igb:2' });
    expect(s.vm.nics).toEqual({ model: 'igb', count: 2 });
    const modulesDir = join(work, 'modules');
    mkdirSync(join(modulesDir, 'kernel/drivers/uio'), { recursive: true });
    writeFileSync(join(modulesDir, 'kernel/drivers/uio/uio.ko.xz'), '');
    writeFileSync(join(modulesDir, 'kernel/drivers/uio/uio_pci_generic.ko.xz'), '');
    const nics = { addresses: ['0000:00:03.0', '0000:00:05.0'], driver: 'igb_uio', driverModule: '/out/igb_uio/igb_uio.ko' };
    const plan = { ...sidePlan(s), nics };
    const module = { path: '/out/m.ko', name: 'm' };
    const ctx = { plan, outDir: '/out/base', runId: 'r1' };
    const lab = { release: '6.12.118+deb12-amd64', buildDir: '/b', modulesDir };
    expect(targetJob(ctx, module, '/tree', [], lab).nics).toEqual({
      addresses: nics.addresses,
      driver: 'igb_uio',
      load: [join(modulesDir, 'kernel/drivers/uio/uio.ko.xz'), '/out/igb_uio/igb_uio.ko'],
    });
    const generic = { ...plan, nics: { ...nics, driver: 'uio_pci_generic', driverModule: null } };
    expect(targetJob({ ...ctx, plan: generic }, module, '/tree', [], lab).nics?.load).toEqual([
      join(modulesDir, 'kernel/drivers/uio/uio.ko.xz'),
      join(modulesDir, 'kernel/drivers/uio/uio_pci_generic.ko.xz'),
    ]);
    expect(targetJob({ ...ctx, plan: generic }, module, '/tree', [], { release: 'r', buildDir: '/b' }).nics?.load).toEqual(['uio', 'uio_pci_generic']);
    expect(targetJob({ ...ctx, plan: sidePlan(s) }, module, '/tree', [], lab).nics).toBeUndefined();
  });
});
