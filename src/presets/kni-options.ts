// The inputs of preset dpdk-kni, parsed once into typed options. The port mask is the one
// input a user must give; everything else has a default that works on a VM and on a NIC runner.
import { readChoice, readOptionalNumber, type InputReader, type Target } from '../inputs/table.js';
import { InputError } from '../errors.js';
import type { DpdkBuildSystem } from './kni-module-build.js';
import { portsFromMask, type PortSource } from './kni-workload.js';

type KthreadMode = 'single' | 'multiple';
type CarrierState = 'off' | 'on';

export interface DpdkKniOptions {
  /** Port ids from the port mask, ascending. */
  ports: number[];
  /** As the user wrote it. */
  portmask: string;
  build: DpdkBuildSystem;
  kthreadMode: KthreadMode;
  carrier: CarrierState;
  portSource: PortSource;
  ealArgs: string;
  appArgs: string;
  /** 2 MiB hugepages to reserve; null: derived from the port count. */
  hugepages: number | null;
  /** Meson drivers to build (enable_drivers); empty: net_null/net_kni set for null ports, all for NIC ports. */
  drivers: string[];
}

/** Parses the preset's inputs; `target` decides where ports come from by default. */
export function parseDpdkKniOptions(read: InputReader, target: Target): DpdkKniOptions {
  const portmask = read('dpdk-portmask').trim();
  if (portmask === '') {
    throw new InputError('dpdk-portmask', '', 'the hex mask of the DPDK ports KNI attaches to, e.g. 0x3 for ports 0 and 1 (preset dpdk-kni needs it)');
  }
  const ports = portsFromMask(portmask);
  if (!ports) throw new InputError('dpdk-portmask', portmask, 'a non-zero hex mask of ports 0..31, e.g. 0x3');
  const hugepages = readOptionalNumber(read, 'dpdk-hugepages');
  const driversRaw = read('dpdk-drivers').trim();
  const drivers = driversRaw === '' ? [] : driversRaw.split(/[\s,]+/).filter((d) => d !== '');
  for (const d of drivers) {
    if (!/^[a-z]+\/[a-z0-9_]+$/.test(d)) throw new InputError('dpdk-drivers', driversRaw, 'meson driver names separated by commas, e.g. net/ixgbe,net/i40e');
  }
  return {
    ports,
    portmask,
    build: readChoice<DpdkBuildSystem>(read, 'dpdk-build'),
    kthreadMode: readChoice<KthreadMode>(read, 'kni-kthread-mode'),
    carrier: readChoice<CarrierState>(read, 'kni-carrier'),
    portSource: readChoice<PortSource>(read, 'dpdk-ports', target === 'vm' ? 'null' : 'nic'),
    ealArgs: read('dpdk-eal-args').trim(),
    appArgs: read('dpdk-app-args').trim(),
    hugepages,
    drivers,
  };
}

/** insmod parameters of rte_kni.ko. */
export function kniModuleArgs(o: Pick<DpdkKniOptions, 'kthreadMode' | 'carrier'>): string {
  return `kthread_mode=${o.kthreadMode} carrier=${o.carrier}`;
}
