// The reference workload of the KNI preset: the KNI example app (examples/kni, up to v22.07)
// or, for trees without it (v22.11..v23.07), testpmd on net_kni ports. Pure.
import type { Workload } from '../inputs/workload.js';
import { shellQuote } from '../shell-quote.js';
import type { KniApp } from './userspace-build.js';

/**
 * What the preset's workload sets in place of the inputs, on purpose: it is ready when its KNI
 * interfaces exist (a ready command, not ready-pattern or ready-delay), and is stopped with
 * SIGINT, on which both apps release their KNI interfaces (a kill would leave that to /dev/kni's
 * close), with 15 s before the kill for the EAL to tear down. ready-timeout and hold apply as given.
 */
const KNI_WORKLOAD_OVERRIDES = {
  readyPattern: '',
  readyDelaySeconds: 0,
  stopSignal: 'SIGINT',
  graceSeconds: 15,
} as const satisfies Partial<Workload>;

/** Where the ethdev ports come from: net_null vdevs (a VM, no NIC) or the NIC ports bound to DPDK. */
export type PortSource = 'null' | 'nic';

interface KniWorkloadOptions {
  app: KniApp;
  program: string;
  /** Port ids (from the port mask), ascending. */
  ports: number[];
  portSource: PortSource;
  /** CPUs the workload may use (lcores 0..cpus-1). */
  cpus: number;
  /** Extra EAL arguments (after the derived ones). */
  ealArgs: string;
  /** Application arguments; replace the derived `--config` (KNI example) when they hold one. */
  appArgs: string;
  holdSeconds: number;
  readyTimeoutSeconds: number;
}

/** `0x3` -> [0, 1]; null when the text is not a non-zero hex mask of ports below 32. */
export function portsFromMask(mask: string): number[] | null {
  const m = /^(0x)?([0-9a-f]+)$/i.exec(mask.trim());
  if (!m) return null;
  const value = Number.parseInt(m[2], 16);
  if (!Number.isSafeInteger(value) || value <= 0 || value >= 2 ** 32) return null;
  const ports: number[] = [];
  for (let p = 0; p < 32; p++) if (value & (2 ** p)) ports.push(p);
  return ports;
}

function maskText(ports: readonly number[]): string {
  return `0x${ports.reduce((m, p) => m + 2 ** p, 0).toString(16)}`;
}

/** `0-3` for 0,1,2,3; `0,2` otherwise. */
function lcoreList(lcores: readonly number[]): string {
  const sorted = [...new Set(lcores)].sort((a, b) => a - b);
  const contiguous = sorted.every((l, i) => l === sorted[0] + i);
  return contiguous && sorted.length > 1 ? `${sorted[0]}-${sorted[sorted.length - 1]}` : sorted.join(',');
}

interface KniLcorePlan {
  /** `(port,lcore_rx,lcore_tx)` per port. */
  config: string;
  lcores: number[];
}

/**
 * One rx and one tx lcore per port, distinct when there are enough CPUs (2 per port), shared
 * round-robin otherwise: the example runs either way, only slower.
 */
export function kniLcorePlan(ports: readonly number[], cpus: number): KniLcorePlan {
  const n = Math.max(1, Math.min(cpus, 2 * ports.length));
  const parts: string[] = [];
  const used: number[] = [];
  ports.forEach((port, i) => {
    const rx = (2 * i) % n;
    const tx = (2 * i + 1) % n;
    parts.push(`(${port},${rx},${tx})`);
    used.push(rx, tx);
  });
  return { config: parts.join(','), lcores: [...new Set(used)].sort((a, b) => a - b) };
}

/** net_null vdevs so that every port id of the mask exists (ids are given in probe order). */
function nullVdevs(ports: readonly number[], driver: string): string[] {
  const highest = Math.max(...ports);
  const args: string[] = [];
  for (let i = 0; i <= highest; i++) args.push(`--vdev=${driver}${i}`);
  return args;
}

/** The interface names the KNI module creates for the workload. */
export function kniInterfaceNames(app: KniApp, ports: readonly number[]): string[] {
  return ports.map((p) => (app === 'kni-example' ? `vEth${p}` : `kni${p}`));
}

export function readyCommandFor(names: readonly string[]): string {
  return names.map((n) => `[ -e /sys/class/net/${n} ]`).join(' && ');
}

export function kniWorkload(o: KniWorkloadOptions): Workload {
  const words: string[] = [shellQuote(o.program)];
  let interfaces: string[];
  if (o.app === 'kni-example') {
    const plan = kniLcorePlan(o.ports, o.cpus);
    words.push('-l', lcoreList(plan.lcores), '-n', '4');
    if (o.portSource === 'null') words.push(...nullVdevs(o.ports, 'net_null'));
    if (o.ealArgs) words.push(o.ealArgs);
    words.push('--', '-p', maskText(o.ports), '-P');
    if (!/--config\b/.test(o.appArgs)) words.push(`--config=${shellQuote(plan.config)}`);
    if (o.appArgs) words.push(o.appArgs);
    interfaces = kniInterfaceNames(o.app, o.ports);
  } else {
    // net_kni names its interface after the vdev (net_kni0 -> kni0); with --no-pci these are
    // the only ports, so the mask's ports are renumbered from 0 on.
    const ids = o.ports.map((_, i) => i);
    const lcores = Math.max(2, Math.min(o.cpus, ids.length + 1));
    words.push('-l', lcoreList([...Array(lcores).keys()]), '-n', '4', '--no-pci', ...nullVdevs(ids, 'net_kni'));
    if (o.ealArgs) words.push(o.ealArgs);
    // --stats-period keeps testpmd running without a terminal until SIGINT.
    words.push('--', `--portmask=${maskText(ids)}`, '--stats-period=10');
    if (o.appArgs) words.push(o.appArgs);
    interfaces = kniInterfaceNames(o.app, ids);
  }
  return {
    ...KNI_WORKLOAD_OVERRIDES,
    command: words.join(' '),
    readyCommand: readyCommandFor(interfaces),
    readyTimeoutSeconds: o.readyTimeoutSeconds,
    holdSeconds: o.holdSeconds,
    env: {},
  };
}

/** 2 MiB pages: the example's mbuf pool plus KNI's fifos, about 256 for 2 ports. */
export function kniHugepages(portCount: number): number {
  return 192 + 32 * Math.max(1, portCount);
}
