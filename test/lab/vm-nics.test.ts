import { describe, expect, it } from 'vitest';
import { atLeast, chooseQemu, parseQemuVersion } from '../../src/lab/lab-qemu.js';
import { qemuArgs } from '../../src/lab/qemu-args.js';
import { describeNics, MAX_NICS, nicAddresses, nicDeviceArgs, parseVmNics } from '../../src/lab/vm-nics.js';
import { InputError } from '../../src/errors.js';
import { parseSettings } from '../../src/settings/settings.js';

describe('vm-nics', () => {
  it('reads MODEL:COUNT, a bare model as one NIC, empty as none', () => {
    expect(parseVmNics('igb:2')).toEqual({ model: 'igb', count: 2 });
    expect(parseVmNics(' e1000e ')).toEqual({ model: 'e1000e', count: 1 });
    expect(parseVmNics('')).toBeNull();
  });

  it('refuses an unknown model, a bad count or a bad shape, naming the input and the models', () => {
    for (const bad of ['ixgbe:2', 'igb:0', `igb:${MAX_NICS + 1}`, 'igb:two', 'igb,2']) {
      const e = (() => {
        try {
          parseVmNics(bad);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toMatch(/input "vm-nics"/);
    }
    expect(() => parseVmNics('ixgbe:2')).toThrow(/igb, e1000e, e1000, virtio-net-pci/);
  });

  it('places igb NICs two slots apart, below 0x0d, so that their virtual functions (devfn + 0x80, two slots each) fit on bus 0', () => {
    const addrs = nicAddresses({ model: 'igb', count: MAX_NICS });
    expect(addrs).toEqual(['0000:00:03.0', '0000:00:05.0', '0000:00:07.0', '0000:00:09.0', '0000:00:0b.0']);
    const devfns = addrs.map((a) => Number.parseInt(a.slice(8, 10), 16) * 8);
    const vfRanges = devfns.map((d) => [d + 0x80, d + 0x80 + 15]);
    for (const [, hi] of vfRanges) expect(hi).toBeLessThan(0x100);
    for (let i = 1; i < vfRanges.length; i++) expect(vfRanges[i][0]).toBeGreaterThan(vfRanges[i - 1][1]);
    expect(nicAddresses({ model: 'e1000', count: 2 })).toEqual(['0000:00:03.0', '0000:00:04.0']);
  });

  it('gives each NIC a hub of its own, no option ROM and a MAC of its slot', () => {
    expect(nicDeviceArgs({ model: 'igb', count: 2 })).toEqual([
      '-netdev',
      'hubport,id=abnic0,hubid=0',
      '-device',
      'igb,netdev=abnic0,addr=0x03,romfile=,mac=52:54:00:ab:00:03',
      '-netdev',
      'hubport,id=abnic1,hubid=1',
      '-device',
      'igb,netdev=abnic1,addr=0x05,romfile=,mac=52:54:00:ab:00:05',
    ]);
    expect(describeNics({ model: 'igb', count: 2 })).toBe('2 × Intel 82576 (igb) [8086:10c9] at 0000:00:03.0, 0000:00:05.0');
  });

  it('puts the NICs before the 9p devices (which take the free slots) and an extracted QEMU its firmware folders', () => {
    const args = qemuArgs({
      vmlinux: '/k',
      initrd: '/i',
      accel: 'tcg',
      memoryMb: 512,
      cpus: 2,
      outDir: '/o',
      ctlDir: '/c',
      shares: ['/usr'],
      nics: { model: 'igb', count: 1 },
      dataDirs: ['/lab/qemu/root/usr/share/qemu'],
    });
    expect(args.slice(0, 2)).toEqual(['-L', '/lab/qemu/root/usr/share/qemu']);
    expect(args.indexOf('igb,netdev=abnic0,addr=0x03,romfile=,mac=52:54:00:ab:00:03')).toBeLessThan(args.indexOf('-virtfs'));
    expect(qemuArgs({ vmlinux: '/k', initrd: '/i', accel: 'tcg', memoryMb: 512, cpus: 2, outDir: '/o', ctlDir: '/c', shares: [] })).not.toContain('-device');
  });
});

describe('which QEMU runs the VM', () => {
  const lab = { version: '10.0', binary: '/lab/qemu/root/usr/bin/qemu-system-x86_64', dataDirs: ['/d'], moduleDir: '/m', package: '1:10.0.2+ds-2' };

  it('reads the version QEMU prints', () => {
    expect(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright')).toEqual([7, 2]);
    expect(parseQemuVersion('qemu: not found')).toBeNull();
    expect(atLeast([8, 0], [8, 0])).toBe(true);
    expect(atLeast([7, 2], [8, 0])).toBe(false);
    expect(atLeast([10, 0], [8, 2])).toBe(true);
  });

  it("takes the runner's QEMU when it is new enough, else the lab's, else says what is missing", () => {
    expect(chooseQemu([8, 0], [8, 2], lab)).toEqual({ qemu: { binary: 'qemu-system-x86_64', dataDirs: [], env: {}, version: '8.2', source: 'runner' } });
    expect(chooseQemu([8, 0], [7, 2], lab)).toEqual({
      qemu: { binary: lab.binary, dataDirs: ['/d'], env: { QEMU_MODULE_DIR: '/m' }, version: '10.0', source: 'lab' },
    });
    expect(chooseQemu([8, 0], [7, 2], null)).toEqual({ problem: "QEMU 8.0 or newer is needed and this runner's QEMU is 7.2" });
    expect(chooseQemu([8, 0], null, { ...lab, version: '7.2' })).toEqual({ problem: 'QEMU 8.0 or newer is needed and this runner has no qemu-system-x86_64' });
  });
});

describe('vm-nics among the inputs', () => {
  it('is read into the VM settings, and refused with target: host', () => {
    const inputs = (extra: Record<string, string>) => (name: string) => ({ workload: './app', ...extra })[name] ?? '';
    expect(parseSettings(inputs({ 'vm-nics': 'igb:2' })).vm.nics).toEqual({ model: 'igb', count: 2 });
    expect(parseSettings(inputs({})).vm.nics).toBeNull();
    expect(() => parseSettings(inputs({ 'vm-nics': 'igb:2', target: 'host' }))).toThrow(
      /input "vm-nics": "igb:2" is not valid; expected nothing with target: host/,
    );
  });
});
