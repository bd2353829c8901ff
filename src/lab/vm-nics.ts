// Emulated PCI NICs in the lab VM (`vm-nics: igb:2`): the models, the QEMU each needs and the
// device arguments. Pure.
import { InputError } from '../errors.js';

interface NicModel {
  /** The PCI vendor:device id the guest sees. */
  pciId: string;
  what: string;
  /** The oldest QEMU that emulates it. */
  minQemu: readonly [number, number];
  /** SR-IOV functions the model adds behind it (the igb model instantiates its VFs on the same bus). */
  vfSlots: number;
}

export const NIC_MODELS = {
  igb: { pciId: '8086:10c9', what: 'Intel 82576 (igb)', minQemu: [8, 0], vfSlots: 2 },
  e1000e: { pciId: '8086:10d3', what: 'Intel 82574L (e1000e)', minQemu: [2, 7], vfSlots: 0 },
  e1000: { pciId: '8086:100e', what: 'Intel 82540EM (e1000)', minQemu: [2, 0], vfSlots: 0 },
  'virtio-net-pci': { pciId: '1af4:1000', what: 'virtio-net', minQemu: [2, 0], vfSlots: 0 },
} as const satisfies Record<string, NicModel>;

export type NicModelName = keyof typeof NIC_MODELS;

export interface VmNics {
  model: NicModelName;
  count: number;
}

/**
 * PCI slots on the guest's bus 0, first NIC first. An igb's virtual functions sit at devfn + 0x80
 * (eight of them, stride 2: two slots), so its own slot must stay below 0x0d and the next NIC two
 * slots on, clear of the VFs; the 9p devices take the free slots after them.
 */
const FIRST_SLOT = 3;
export const MAX_NICS = 5;

/** `igb:2` -> two igb NICs; empty -> null. */
export function parseVmNics(text: string): VmNics | null {
  const t = text.trim();
  if (t === '') return null;
  const m = /^([a-z0-9-]+)(?::(\d+))?$/.exec(t);
  const names = Object.keys(NIC_MODELS).join(', ');
  if (!m) throw new InputError('vm-nics', text, `MODEL:COUNT, e.g. igb:2 (models: ${names})`);
  if (!(m[1] in NIC_MODELS)) throw new InputError('vm-nics', text, `one of the models ${names}, e.g. igb:2`);
  const count = m[2] === undefined ? 1 : Number(m[2]);
  if (count < 1 || count > MAX_NICS) throw new InputError('vm-nics', text, `1 to ${MAX_NICS} NICs, e.g. ${m[1]}:2`);
  return { model: m[1] as NicModelName, count };
}

/** The guest PCI address of each NIC, e.g. 0000:00:03.0. */
export function nicAddresses(nics: VmNics): string[] {
  const step = NIC_MODELS[nics.model].vfSlots > 0 ? 2 : 1;
  return Array.from({ length: nics.count }, (_, i) => `0000:00:${(FIRST_SLOT + i * step).toString(16).padStart(2, '0')}.0`);
}

/**
 * QEMU arguments: each NIC on a hub of its own (traffic reaches nothing, and QEMU does not warn of
 * a NIC without a peer), no option ROM (nothing boots from it), a fixed MAC per slot.
 */
export function nicDeviceArgs(nics: VmNics): string[] {
  return nicAddresses(nics).flatMap((address, i) => {
    const slot = address.slice(8, 10);
    return ['-netdev', `hubport,id=abnic${i},hubid=${i}`, '-device', `${nics.model},netdev=abnic${i},addr=0x${slot},romfile=,mac=52:54:00:ab:00:${slot}`];
  });
}

export function describeNics(nics: VmNics): string {
  const m = NIC_MODELS[nics.model];
  return `${nics.count} × ${m.what} [${m.pciId}] at ${nicAddresses(nics).join(', ')}`;
}
