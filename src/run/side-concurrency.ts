// Whether base and PR run at once: two VMs side by side where the runner has the cores and the
// memory for both, otherwise one after the other. Pure: the runner's figures are passed in.

/** Memory left to the runner itself (node, the builds, QEMU's own use) besides two guests. */
export const HEADROOM_MB = 1024;
/** Cores below which two VMs at once would only take turns on the same CPUs. */
const MIN_CORES = 4;

export interface ConcurrencyInput {
  target: 'host' | 'vm';
  /** Both sides still to run (no cached base). */
  sidesToRun: number;
  /** A preset's sides share one user-space build that the first side makes. */
  preset: boolean;
  cores: number;
  freeMemoryMb: number;
  vm: { memoryMb: number; cpus: number };
}

interface Concurrency {
  atOnce: boolean;
  why: string;
}

export function sideConcurrency(c: ConcurrencyInput): Concurrency {
  const after = (why: string): Concurrency => ({ atOnce: false, why: `one side after the other: ${why}` });
  if (c.sidesToRun < 2) return after('only the PR side runs');
  if (c.target === 'host') return after('target: host has one kernel, which runs one side at a time');
  if (c.preset) return after('the preset builds the user space once, on the first side, for both');
  const cores = Math.max(MIN_CORES, 2 * c.vm.cpus);
  if (c.cores < cores) return after(`this runner has ${c.cores} cores, two VMs of ${c.vm.cpus} CPUs need ${cores}`);
  const memory = 2 * c.vm.memoryMb + HEADROOM_MB;
  if (c.freeMemoryMb < memory) return after(`${c.freeMemoryMb} MiB free, two VMs of ${c.vm.memoryMb} MiB need ${memory} MiB`);
  return {
    atOnce: true,
    why: `both sides at once: ${c.cores} cores and ${c.freeMemoryMb} MiB free hold two VMs of ${c.vm.cpus} CPUs and ${c.vm.memoryMb} MiB`,
  };
}
