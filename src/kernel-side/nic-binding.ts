// NICs handed to a user-space driver for the run (DPDK's igb_uio or the kernel's uio_pci_generic):
// the driver's modules loaded, each NIC unbound from its driver and bound through driver_override,
// each step recorded in the undo log before it is made, so that the NIC goes back to the driver it
// had (or to none) and the modules are unloaded after the run.
import { existsSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCommand } from '../process/run.js';
import { insmod } from './kernel-module.js';
import type { UndoLog } from './undo.js';
import { moduleName } from '../core/module-name.js';

export interface NicBindingJob {
  /** PCI addresses, e.g. 0000:00:03.0. */
  addresses: string[];
  /** The driver to bind them to: igb_uio or uio_pci_generic. */
  driver: string;
  /** Modules to load first, in order: a .ko path (insmod) or a name (modprobe). */
  load: string[];
}

export class NicBindingError extends Error {}

const PCI = '/sys/bus/pci';

/** The driver a PCI device is bound to, or null. */
export function boundDriver(address: string): string | null {
  const link = join(PCI, 'devices', address, 'driver');
  return existsSync(link) ? basename(readlinkSync(link)) : null;
}

async function load(entry: string, undo: UndoLog): Promise<string | null> {
  const name = moduleName(entry);
  // /sys/module, not /proc/modules: a driver built into the kernel (uio often is) needs no load either.
  if (existsSync(`/sys/module/${name}`)) return null;
  const r = entry.includes('/') ? await insmod(entry, '') : await runCommand('modprobe', [entry]);
  if (r.code !== 0) throw new NicBindingError(`loading ${entry} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  undo.push({ kind: 'rmmod', name });
  return name;
}

export async function bindNics(job: NicBindingJob, undo: UndoLog): Promise<string[]> {
  const loaded: string[] = [];
  for (const entry of job.load) {
    const name = await load(entry, undo);
    if (name) loaded.push(name);
  }
  const notes = loaded.length ? [`loaded ${loaded.join(', ')} for the NICs (unloaded after)`] : [];
  for (const address of job.addresses) {
    const dev = join(PCI, 'devices', address);
    if (!existsSync(dev)) throw new NicBindingError(`NIC ${address} does not exist on this machine (no ${dev})`);
    const before = boundDriver(address);
    if (before === job.driver) {
      notes.push(`${address} already bound to ${job.driver}`);
      continue;
    }
    // Undo runs last-in first-out: off the new driver (and the override cleared), then back to the old one.
    if (before) undo.push({ kind: 'pci-bind', address, driver: before });
    undo.push({ kind: 'pci-unbind', address, driver: job.driver });
    if (before) writeFileSync(join(dev, 'driver', 'unbind'), address);
    writeFileSync(join(dev, 'driver_override'), job.driver);
    try {
      writeFileSync(join(PCI, 'drivers_probe'), address);
    } catch {
      // drivers_probe fails when no driver takes the device: said below.
    }
    const now = boundDriver(address);
    if (now !== job.driver) throw new NicBindingError(`NIC ${address} could not be bound to ${job.driver} (it is ${now ? `bound to ${now}` : 'unbound'})`);
    notes.push(`bound ${address} to ${job.driver}${before ? ` (was ${before}; given back after)` : ''}`);
  }
  return notes;
}
