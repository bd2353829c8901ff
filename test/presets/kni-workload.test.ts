import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePair } from '../../src/core/pair-spec.js';
import { dpdkKniPreset } from '../../src/presets/dpdk-kni.js';
import { defaultKniTrack, KNI_PAIRS } from '../../src/presets/kni-pairs.js';
import { kniModuleArgs, parseDpdkKniOptions } from '../../src/presets/kni-options.js';
import { kniHugepages, kniLcorePlan, kniWorkload, portsFromMask, readyCommandFor } from '../../src/presets/kni-workload.js';
import { InputError } from '../../src/errors.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/dpdk-tree');
/** Copies of the fixture tree with a part added. */
const scratch = useTempDir('ab-kni-trees-');

function reader(values: Record<string, string>) {
  return (name: string) => values[name] ?? '';
}

describe('port mask', () => {
  it.each([
    ['0x3', [0, 1]],
    ['3', [0, 1]],
    ['0x5', [0, 2]],
    ['0X80000000', [31]],
    ['0x1', [0]],
  ])('%s -> %j', (mask, ports) => {
    expect(portsFromMask(mask)).toEqual(ports);
  });

  it.each(['0', '0x0', 'zz', '0x100000000', '-1', ''])('refuses %j', (mask) => {
    expect(portsFromMask(mask)).toBeNull();
  });
});

describe('lcores of the KNI example', () => {
  it('gives each port its own rx and tx lcore when there are CPUs enough', () => {
    expect(kniLcorePlan([0, 1], 4)).toEqual({ config: '(0,0,1),(1,2,3)', lcores: [0, 1, 2, 3] });
  });
  it('shares lcores round-robin on fewer CPUs', () => {
    expect(kniLcorePlan([0, 1], 2)).toEqual({ config: '(0,0,1),(1,0,1)', lcores: [0, 1] });
    expect(kniLcorePlan([0, 1], 3)).toEqual({ config: '(0,0,1),(1,2,0)', lcores: [0, 1, 2] });
    expect(kniLcorePlan([2], 1)).toEqual({ config: '(2,0,0)', lcores: [0] });
  });
});

describe('workload command', () => {
  const base = { program: '/cache/bin/dpdk-kni', cpus: 3, ealArgs: '', appArgs: '', holdSeconds: 2, readyTimeoutSeconds: 90 };

  it('runs the KNI example on net_null ports, ready when the vEth interfaces exist, stopped by SIGINT', () => {
    const w = kniWorkload({ ...base, app: 'kni-example', ports: [0, 1], portSource: 'null' });
    expect(w.command).toBe("/cache/bin/dpdk-kni -l 0-2 -n 4 --vdev=net_null0 --vdev=net_null1 -- -p 0x3 -P --config='(0,0,1),(1,2,0)'");
    expect(w.readyCommand).toBe('[ -e /sys/class/net/vEth0 ] && [ -e /sys/class/net/vEth1 ]');
    expect(w).toMatchObject({ stopSignal: 'SIGINT', holdSeconds: 2, readyTimeoutSeconds: 90, readyPattern: '' });
  });

  it('creates null ports up to the highest port of the mask and uses no vdev on a NIC runner', () => {
    const sparse = kniWorkload({ ...base, app: 'kni-example', ports: [2], portSource: 'null' });
    expect(sparse.command).toContain('--vdev=net_null0 --vdev=net_null1 --vdev=net_null2 -- -p 0x4');
    expect(sparse.readyCommand).toBe('[ -e /sys/class/net/vEth2 ]');
    const nic = kniWorkload({ ...base, app: 'kni-example', ports: [0, 1], portSource: 'nic', ealArgs: '-a 0000:03:00.0 -a 0000:03:00.1' });
    expect(nic.command).not.toContain('--vdev');
    expect(nic.command).toContain('-n 4 -a 0000:03:00.0 -a 0000:03:00.1 -- -p 0x3');
  });

  it("keeps the user's --config instead of the derived one", () => {
    const w = kniWorkload({ ...base, app: 'kni-example', ports: [0, 1], portSource: 'null', appArgs: '--config="(0,0,1),(1,1,1)" -m' });
    expect(w.command).toMatch(/-- -p 0x3 -P --config="\(0,0,1\),\(1,1,1\)" -m$/);
  });

  it('runs testpmd on net_kni ports for trees without the example', () => {
    const w = kniWorkload({ ...base, program: '/cache/bin/dpdk-testpmd', app: 'testpmd', ports: [0, 1], portSource: 'null' });
    expect(w.command).toBe('/cache/bin/dpdk-testpmd -l 0-2 -n 4 --no-pci --vdev=net_kni0 --vdev=net_kni1 -- --portmask=0x3 --stats-period=10');
    expect(w.readyCommand).toBe(readyCommandFor(['kni0', 'kni1']));
  });

  it('sizes hugepages with the ports', () => {
    expect(kniHugepages(2)).toBe(256);
    expect(kniHugepages(4)).toBeGreaterThan(kniHugepages(2));
  });
});

describe('preset inputs', () => {
  it('needs only the port mask', () => {
    const o = parseDpdkKniOptions(reader({ 'dpdk-portmask': '0x3' }), 'vm');
    expect(o).toMatchObject({ ports: [0, 1], build: 'auto', kthreadMode: 'single', carrier: 'off', portSource: 'null', hugepages: null, drivers: [] });
    expect(kniModuleArgs(o)).toBe('kthread_mode=single carrier=off');
    expect(parseDpdkKniOptions(reader({ 'dpdk-portmask': '0x3' }), 'host').portSource).toBe('nic');
  });

  it('takes the module parameters and build system', () => {
    const o = parseDpdkKniOptions(
      reader({
        'dpdk-portmask': '1',
        'kni-kthread-mode': 'multiple',
        'kni-carrier': 'on',
        'dpdk-build': 'kbuild',
        'dpdk-hugepages': '512',
        'dpdk-drivers': 'net/ixgbe, net/i40e',
      }),
      'host',
    );
    expect(o).toMatchObject({ kthreadMode: 'multiple', carrier: 'on', build: 'kbuild', hugepages: 512, drivers: ['net/ixgbe', 'net/i40e'] });
    expect(kniModuleArgs(o)).toBe('kthread_mode=multiple carrier=on');
  });

  it.each([
    [{}, 'dpdk-portmask', /missing; expected the hex mask/],
    [{ 'dpdk-portmask': '0' }, 'dpdk-portmask', /"0" is not valid/],
    [{ 'dpdk-portmask': '0x3', 'kni-kthread-mode': 'many' }, 'kni-kthread-mode', /one of single, multiple/],
    [{ 'dpdk-portmask': '0x3', 'kni-carrier': 'up' }, 'kni-carrier', /one of off, on/],
    [{ 'dpdk-portmask': '0x3', 'dpdk-build': 'cmake' }, 'dpdk-build', /one of auto, meson, kbuild/],
    [{ 'dpdk-portmask': '0x3', 'dpdk-hugepages': 'lots' }, 'dpdk-hugepages', /2 MiB pages/],
    [{ 'dpdk-portmask': '0x3', 'dpdk-drivers': 'ixgbe' }, 'dpdk-drivers', /net\/ixgbe/],
  ])('refuses %j naming %s', (values, input, message) => {
    let error: unknown;
    try {
      parseDpdkKniOptions(reader(values as Record<string, string>), 'vm');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(input);
    expect((error as Error).message).toMatch(message);
  });
});

describe('KNI pairs', () => {
  it('tracks the pairs that pair per object, each a valid pair spec', () => {
    const track = defaultKniTrack();
    expect(track).toEqual([
      { alloc: 'alloc_netdev_mqs', free: 'free_netdev' },
      { alloc: 'kthread_create_on_node', free: 'kthread_stop' },
    ]);
    for (const p of KNI_PAIRS) expect(parsePair(`${p.alloc}:${p.free}`)).toEqual({ alloc: p.alloc, free: p.free });
    expect(KNI_PAIRS.find((p) => p.alloc === 'register_netdev' && p.free === 'unregister_netdev')?.exact).toBe(false);
    expect(KNI_PAIRS.find((p) => p.alloc === 'get_user_pages_remote' && p.free === 'put_page')?.note).toMatch(/static inline/);
  });
});

describe('dpdkKniPreset on the fixture tree', () => {
  it('puts together module build, cached workload build, workload, parameters, pairs and hugepages', () => {
    const options = parseDpdkKniOptions(reader({ 'dpdk-portmask': '0x3' }), 'vm');
    const p = dpdkKniPreset(FIXTURE, options, '/lib/modules/KERNEL/build', {
      moduleOutDir: '/tmp/ab-out/kni',
      cacheRoot: '/tmp/ab-cache',
      mesonAvailable: true,
      cpus: 2,
    });
    expect(p.app).toBe('kni-example');
    expect(p.moduleBuild.kind).toBe('meson');
    expect(p.moduleBuild.output).toBe('/tmp/ab-out/kni/meson/kernel/linux/kni/rte_kni.ko');
    expect(p.userspaceBuild.program).toBe(`${p.cache.dir}/bin/dpdk-kni`);
    expect(p.cache.dir.startsWith('/tmp/ab-cache/alloc-balance-dpdk-kni-example-22.07.0-')).toBe(true);
    expect(p.workload.command.startsWith(`${p.userspaceBuild.program} -l 0-1 -n 4 --vdev=net_null0 --vdev=net_null1 -- -p 0x3 -P`)).toBe(true);
    expect(p.interfaces).toEqual(['vEth0', 'vEth1']);
    expect(p.moduleArgs).toBe('kthread_mode=single carrier=off');
    expect(p.moduleName).toBe('rte_kni');
    expect(p.track).toEqual(defaultKniTrack());
    expect(p.hugepages).toBe(256);

    const noMeson = dpdkKniPreset(FIXTURE, options, '/lib/modules/KERNEL/build', { moduleOutDir: '/tmp/x', cacheRoot: '/tmp/c', mesonAvailable: false });
    expect(noMeson.moduleBuild.kind).toBe('kbuild');
  });
});

describe("NIC ports on a VM's emulated NICs", () => {
  const options = parseDpdkKniOptions(reader({ 'dpdk-portmask': '0x3', 'dpdk-ports': 'nic' }), 'vm');
  const env = { moduleOutDir: '/tmp/ab-out/kni', cacheRoot: '/tmp/ab-cache', mesonAvailable: true, cpus: 2, nicAddresses: ['0000:00:03.0', '0000:00:05.0'] };

  it('binds them to uio_pci_generic when the tree has no igb_uio, with no vdevs in the workload', () => {
    const p = dpdkKniPreset(FIXTURE, options, '/lib/modules/KERNEL/build', env);
    expect(p.nics).toEqual({ addresses: ['0000:00:03.0', '0000:00:05.0'], driver: 'uio_pci_generic' });
    expect(p.workload.command).not.toContain('--vdev');
    expect(p.notes).toContain('NICs 0000:00:03.0, 0000:00:05.0 bound to uio_pci_generic (the tree has no igb_uio) for the run');
  });

  it("builds the tree's igb_uio and binds them to it", () => {
    const tree = join(scratch, 'igb-uio');
    cpSync(FIXTURE, tree, { recursive: true });
    mkdirSync(join(tree, 'kernel/linux/igb_uio'));
    writeFileSync(join(tree, 'kernel/linux/igb_uio/igb_uio.c'), '/* igb_uio */\n');
    const p = dpdkKniPreset(tree, options, '/lib/modules/KERNEL/build', env);
    expect(p.nics?.driver).toBe('igb_uio');
    expect(p.nics?.build?.output).toBe('/tmp/ab-out/kni/igb_uio/igb_uio.ko');
    expect(p.nics?.build?.steps.at(-1)).toMatchObject({
      kind: 'run',
      argv: expect.arrayContaining(['-C', '/lib/modules/KERNEL/build', 'M=/tmp/ab-out/kni/igb_uio']),
    });
  });

  it('leaves NICs alone with null ports', () => {
    const nulls = parseDpdkKniOptions(reader({ 'dpdk-portmask': '0x3' }), 'vm');
    expect(dpdkKniPreset(FIXTURE, nulls, '/lib/modules/KERNEL/build', env).nics).toBeUndefined();
  });
});

describe('a tree with the KNI ethtool code (up to v19.05)', () => {
  it('builds it with Kbuild and RTE_KNI_KMOD_ETHTOOL, with the edits the kernel needs, named for the report', () => {
    const tree = join(scratch, 'ethtool');
    cpSync(FIXTURE, tree, { recursive: true });
    mkdirSync(join(tree, 'kernel/linux/kni/ethtool/igb'), { recursive: true });
    writeFileSync(join(tree, 'kernel/linux/kni/ethtool/igb/kcompat.h'), '#include <linux/pci-aspm.h>\n');
    const kbuild = join(tree, 'kbuild');
    mkdirSync(join(kbuild, 'include/config'), { recursive: true });
    writeFileSync(join(kbuild, 'include/config/kernel.release'), '5.10.0-46-amd64\n');
    const options = parseDpdkKniOptions(reader({ 'dpdk-portmask': '0x3' }), 'vm');
    const p = dpdkKniPreset(tree, options, kbuild, { moduleOutDir: '/tmp/ab-out/kni', cacheRoot: '/tmp/ab-cache', mesonAvailable: true, cpus: 2 });
    expect(p.moduleBuild.kind).toBe('kbuild');
    expect(p.moduleBuild.steps.at(-1)).toMatchObject({ kind: 'run', argv: expect.arrayContaining([expect.stringContaining('-DRTE_KNI_KMOD_ETHTOOL')]) });
    expect(p.moduleBuild.steps).toContainEqual({ kind: 'write', path: '/tmp/ab-out/kni/kni/ethtool/igb/kcompat.h', content: '#include <linux/pci.h>\n' });
    expect(p.reportNotes).toEqual([
      'module built with 1 compatibility edit for Linux 5.10 (the build copy only): linux/pci-aspm.h folded into linux/pci.h (Linux 5.4)',
    ]);
  });
});
