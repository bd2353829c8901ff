// The allocator/releaser pairs of rte_kni.ko (v18.05..v23.07 imports), and how exactly each
// can be traced. Pairing per object needs the object's address on both sides: the alloc's
// return value (kretprobe) and the release's first argument (kprobe).
import type { PairSpec } from '../core/model.js';

export interface KniPairInfo extends PairSpec {
  /** Per-object pairing works: the allocator returns the object, the releaser takes it first. */
  exact: boolean;
  /** In the default `track` of the preset. */
  byDefault: boolean;
  note: string;
}

export const KNI_PAIRS: readonly KniPairInfo[] = [
  {
    alloc: 'alloc_netdev_mqs',
    free: 'free_netdev',
    exact: true,
    byDefault: true,
    note:
      'kni_ioctl_create allocates the netdev (alloc_netdev -> alloc_netdev_mqs returns it); kni_dev_remove ' +
      'frees it (often inlined or .isra, tail call: the caller shows as kni_ioctl_release or kni_release). ' +
      'On a registered netdev free_netdev only drops a reference: calls are paired, not slab frees. The ' +
      'old ethtool path (igb/ixgbe_kni_probe, lad_dev, up to v19.05) allocates a second netdev through ' +
      'alloc_etherdev_mqs.',
  },
  {
    alloc: 'kthread_create_on_node',
    free: 'kthread_stop',
    exact: true,
    byDefault: true,
    note:
      'kthread_create/kthread_run expand to kthread_create_on_node, which returns the task; kthread_stop ' +
      'takes it. kthread_mode=single: one thread at the first interface, stopped on close of /dev/kni; ' +
      'multiple: one per interface, stopped on its release. Other kernel code (workqueues) also creates ' +
      'kthreads: only call sites in rte_kni count.',
  },
  {
    alloc: 'register_netdev',
    free: 'unregister_netdev',
    exact: false,
    byDefault: false,
    note:
      'register_netdev returns an int, not the netdev: its return value cannot be paired with ' +
      'unregister_netdev(dev). Both take the netdev as first argument, so calls can be counted (function ' +
      'tracer), not paired per object. Opt in with track: register_netdev:unregister_netdev only with a ' +
      'counting method.',
  },
  {
    alloc: 'get_user_pages_remote',
    free: 'put_page',
    exact: false,
    byDefault: false,
    note:
      'IOVA=VA mode: iova_to_phys pins one page with get_user_pages_remote (returns a count; the page ' +
      'comes back through an output array) and drops it with put_page in the same call. put_page is a ' +
      'static inline in <linux/mm.h>: no function to trace. Not traceable as a pair; page references show ' +
      'up in the kmem/slab cross-checks at most.',
  },
];

/** The pairs the preset tracks by default: those that pair per object. */
export function defaultKniTrack(): PairSpec[] {
  return KNI_PAIRS.filter((p) => p.byDefault).map(({ alloc, free }) => ({ alloc, free }));
}
