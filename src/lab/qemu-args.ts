// The QEMU command line of a lab VM (pure: everything it needs is passed in).
import { nicDeviceArgs, type VmNics } from './vm-nics.js';
import { CTL_TAG, OUT_TAG, SHARE_TAG_PREFIX } from './guest-scripts.js';

type Accel = 'kvm' | 'tcg';

interface QemuConfig {
  vmlinux: string;
  initrd: string;
  accel: Accel;
  memoryMb: number;
  cpus: number;
  /** Host directory shared read-write as the job's outDir. */
  outDir: string;
  /** Per-run control directory (guest.env, job.sh, the guest's /etc), shared read-only. */
  ctlDir: string;
  /** Host folders shared read-only, in the order of guest.env's SHARE_<n> (tag `s<n>`). */
  shares: string[];
  extraAppend?: string[];
  /** Emulated NICs (before the 9p devices: their slots are fixed, the 9p devices take free ones). */
  nics?: VmNics | null;
  /** `-L` folders of an extracted QEMU's firmware. */
  dataDirs?: string[];
}

// A soft lockup fails the run anyway (the dmesg check counts it as a splat); softlockup_panic ends
// the VM at once with the stuck CPU's stack on the console instead of spinning until the deadline.
// watchdog_thresh=60 (the kernel's maximum): under software emulation on a loaded host a vCPU can
// spend over the default 20 s in one long kernel loop that is no lockup (compaction clearing pages
// while hugepages are reserved panicked a guest that way); a real lockup is still caught after
// 120 s, long before the job's deadline.
// no_hash_pointers: pointers as real addresses (5.12 on; trace output prints them real from 5.12,
// and Debian's 5.10.262 has that backported). A kernel whose trace output still hashes them has no
// no_hash_pointers: debug_boot_weak_hash makes that hash the public hash_long(ptr, 32) instead of a
// keyed siphash, so that an address a kprobe reads raw (kvfree_call_rcu) can be matched to it.
// Kernels with no_hash_pointers ignore the weak hash for %p. slab_nomerge: a slab cache a module
// creates is its own (merged into an existing cache, kmem_cache_create allocates no cache and a
// cache never destroyed leaves nothing to see) and has its own /proc/slabinfo row.
const BASE_APPEND = [
  'console=ttyS0',
  'panic=-1',
  'oops=panic',
  'softlockup_panic=1',
  'watchdog_thresh=60',
  'loglevel=4',
  'no_hash_pointers',
  'debug_boot_weak_hash',
  'slab_nomerge',
];

/** QEMU's option syntax: a comma inside a value is written twice. */
function optValue(s: string): string {
  return s.replace(/,/g, ',,');
}

/**
 * Software emulation runs all vCPUs on one host thread. With a thread per vCPU (QEMU's default),
 * a loaded host has been seen to leave one guest CPU asleep through its timer and IPIs: the other
 * CPU then waits forever for it (a soft lockup in smp_call_function_many_cond while tracing is
 * switched off). The job's guest work is light (the module is built on the host), so one thread
 * costs little, and under CI several VMs share the cores anyway.
 */
const TCG_ACCEL = 'tcg,thread=single';

export function qemuArgs(c: QemuConfig): string[] {
  const append = [...BASE_APPEND, ...(c.extraAppend ?? [])];
  const readOnly = (path: string, tag: string) => ['-virtfs', `local,path=${optValue(path)},mount_tag=${tag},security_model=none,readonly=on,multidevs=remap`];
  return [
    ...(c.dataDirs ?? []).flatMap((d) => ['-L', d]),
    '-accel',
    c.accel === 'tcg' ? TCG_ACCEL : c.accel,
    '-cpu',
    c.accel === 'kvm' ? 'host' : 'max',
    '-m',
    String(c.memoryMb),
    '-smp',
    String(c.cpus),
    '-kernel',
    c.vmlinux,
    '-initrd',
    c.initrd,
    '-append',
    append.join(' '),
    '-nographic',
    '-serial',
    'mon:stdio',
    '-no-reboot',
    '-nic',
    'none',
    ...(c.nics ? nicDeviceArgs(c.nics) : []),
    ...readOnly(c.ctlDir, CTL_TAG),
    ...c.shares.flatMap((path, i) => readOnly(path, `${SHARE_TAG_PREFIX}${i}`)),
    '-virtfs',
    `local,path=${optValue(c.outDir)},mount_tag=${OUT_TAG},security_model=none,multidevs=remap`,
  ];
}
