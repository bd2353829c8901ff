// What an old rte_kni (the make era, up to v19.05 with its KNI ethtool code) needs to build
// against a newer kernel: small edits of the build copy, each named, keyed by the kernel version
// that made it necessary, never touching the module's allocations or frees. The tree stays as it is.
// Pure.

/** `[major, minor]` of a kernel. */
export type KernelVersion = readonly [number, number];

interface SourceEdit {
  name: string;
  /** The kernel version from which the edit is needed. */
  since: KernelVersion;
  /** Files relative to the KNI dir; those absent from a tree are skipped. */
  files: readonly string[];
  find: RegExp;
  replace: string;
}

interface HeaderDefine {
  name: string;
  since: KernelVersion;
  /** Lines of the compatibility header the build includes before every file. */
  lines: readonly string[];
  /** Only when a KNI file mentions this (the edit names what the tree uses). */
  used: RegExp;
}

const IGB = 'ethtool/igb';
const IXGBE = 'ethtool/ixgbe';
const ETHTOOL_FILES = ['kni_ethtool.c', `${IGB}/igb_ethtool.c`, `${IXGBE}/ixgbe_ethtool.c`];

const SOURCE_EDITS: readonly SourceEdit[] = [
  {
    name: "ndo_tx_timeout's txqueue argument (Linux 5.6)",
    since: [5, 6],
    files: ['kni_net.c'],
    find: /^(kni_net_tx_timeout\(struct net_device \*dev)\)$/m,
    replace: '$1, unsigned int txqueue)',
  },
  {
    name: "ndo_tx_timeout's txqueue argument in igb (Linux 5.6)",
    since: [5, 6],
    files: [`${IGB}/igb_main.c`],
    find: /^(static void igb_tx_timeout\(struct net_device \*(?:netdev)?)\)/gm,
    replace: '$1, unsigned int txqueue)',
  },
  {
    name: 'linux/pci-aspm.h folded into linux/pci.h (Linux 5.4)',
    since: [5, 4],
    files: [`${IGB}/kcompat.h`, `${IXGBE}/kcompat.h`],
    find: /#include <linux\/pci-aspm\.h>/g,
    replace: '#include <linux/pci.h>',
  },
  {
    name: 'skb_frag_t.page_offset read through skb_frag_off_add (Linux 5.4)',
    since: [5, 4],
    files: [`${IGB}/igb_main.c`],
    find: /\bfrag->page_offset \+= pull_len;/g,
    replace: 'skb_frag_off_add(frag, pull_len);',
  },
  {
    name: 'a udelay the compiler sees as a constant over 20 ms (gcc 10 and later inline it)',
    since: [5, 4],
    files: [`${IGB}/e1000_phy.c`],
    find: /(\t+)usec_delay\(usec_interval\);(\n\t+ret_val = hw->phy\.ops\.read_reg\(hw, PHY_STATUS)/,
    replace: '$1__udelay(usec_interval);$2',
  },
  {
    name: 'ethtool coalesce callbacks take kernel_ethtool_coalesce and extack arguments (Linux 5.15)',
    since: [5, 15],
    files: ETHTOOL_FILES,
    find: /(\w+_[gs]et_coalesce\(struct net_device \*\w+,\s*struct ethtool_coalesce \*\w+)\)/g,
    replace: '$1, struct kernel_ethtool_coalesce *kernel_arg, struct netlink_ext_ack *extack)',
  },
  {
    name: 'ethtool ringparam callbacks take kernel_ethtool_ringparam and extack arguments (Linux 5.17)',
    since: [5, 17],
    files: ETHTOOL_FILES,
    find: /(\w+_[gs]et_ringparam\(struct net_device \*\w+,\s*struct ethtool_ringparam \*\w+)\)/g,
    replace: '$1, struct kernel_ethtool_ringparam *kernel_arg, struct netlink_ext_ack *extack)',
  },
  {
    name: "kni_ethtool passes the new ringparam arguments on to the NIC's driver (Linux 5.17)",
    since: [5, 17],
    files: ['kni_ethtool.c'],
    find: /(->[gs]et_ringparam\(priv->lad_dev, ring)\)/g,
    replace: '$1, kernel_arg, extack)',
  },
  {
    name: 'dev_addr is read-only, set through eth_hw_addr_set (Linux 5.15; a direct write warns when the netdev is freed)',
    since: [5, 15],
    files: ['kni_misc.c', 'kni_net.c', `${IGB}/igb_main.c`, `${IXGBE}/ixgbe_main.c`],
    find: /(?:ether_addr_copy\((\w+)->dev_addr, ([^;]+)\)|memcpy\((\w+)->dev_addr, ([^,;]+), (?:ETH_ALEN|\w+->addr_len)\));/g,
    replace: 'eth_hw_addr_set($1$3, $2$4);',
  },
  {
    name: 'a random address through eth_hw_addr_random (Linux 5.15)',
    since: [5, 15],
    files: ['kni_misc.c', `${IGB}/igb_main.c`, `${IXGBE}/ixgbe_main.c`],
    find: /random_ether_addr\((\w+)->dev_addr\);/g,
    replace: 'eth_hw_addr_random($1);',
  },
  {
    name: 'netif_napi_add lost its weight argument, now netif_napi_add_weight (Linux 6.1)',
    since: [6, 1],
    files: [`${IGB}/igb_main.c`, `${IXGBE}/ixgbe_main.c`],
    find: /\bnetif_napi_add\(/g,
    replace: 'netif_napi_add_weight(',
  },
];

const HEADER_DEFINES: readonly HeaderDefine[] = [
  { name: 'FIELD_SIZEOF is sizeof_field (Linux 5.4)', since: [5, 4], lines: ['#define FIELD_SIZEOF(t, f) sizeof_field(t, f)'], used: /\bFIELD_SIZEOF\(/ },
  { name: 'struct skb_frag_struct is struct bio_vec (Linux 5.4)', since: [5, 4], lines: ['#define skb_frag_struct bio_vec'], used: /\bskb_frag_struct\b/ },
  {
    name: 'pci_cleanup_aer_uncorrect_error_status removed (Linux 5.7)',
    since: [5, 7],
    lines: ['#define pci_cleanup_aer_uncorrect_error_status(pdev) do { } while (0)'],
    used: /\bpci_cleanup_aer_uncorrect_error_status\(/,
  },
  {
    name: 'read_barrier_depends removed (Linux 5.9)',
    since: [5, 9],
    lines: ['#define read_barrier_depends() do { } while (0)'],
    used: /\bread_barrier_depends\(/,
  },
  {
    name: "num_online_cpus is a function, not kcompat's macro over smp_num_cpus (Linux 5.10)",
    since: [5, 10],
    lines: ['#define num_online_cpus num_online_cpus'],
    used: /define num_online_cpus\(\) smp_num_cpus/,
  },
  {
    name: 'random_ether_addr is eth_random_addr (Linux 5.15)',
    since: [5, 15],
    lines: ['#define random_ether_addr eth_random_addr'],
    used: /\brandom_ether_addr\(/,
  },
  { name: 'strlcpy removed, strscpy in its place (Linux 6.8)', since: [6, 8], lines: ['#define strlcpy strscpy'], used: /\bstrlcpy\(/ },
  { name: 'netif_rx_ni is netif_rx (Linux 5.18)', since: [5, 18], lines: ['#define netif_rx_ni netif_rx'], used: /\bnetif_rx_ni\(/ },
  {
    name: 'pci_set_dma_mask and pci_set_consistent_dma_mask are dma_set_mask and dma_set_coherent_mask (Linux 5.18)',
    since: [5, 18],
    lines: [
      '#define pci_set_dma_mask(pdev, mask) dma_set_mask(&(pdev)->dev, (mask))',
      '#define pci_set_consistent_dma_mask(pdev, mask) dma_set_coherent_mask(&(pdev)->dev, (mask))',
    ],
    used: /\bpci_set_(consistent_)?dma_mask\(/,
  },
];

const atLeast = (k: KernelVersion, v: KernelVersion) => k[0] > v[0] || (k[0] === v[0] && k[1] >= v[1]);

export interface CompatResult {
  /** New contents of the edited files, by path relative to the KNI dir. */
  files: Record<string, string>;
  /** The header to include before every file ('' when nothing needs it). */
  header: string;
  /** What was done, one line an edit (each at least once in the tree). */
  applied: string[];
}

/**
 * The edits the KNI sources in `sources` (relative path -> text; the files the edits name, plus
 * any the header defines are looked for in) need for a kernel of `kernel`. An edit whose pattern
 * is not in the tree is not applied and not named.
 */
export function kniCompat(sources: Readonly<Record<string, string>>, kernel: KernelVersion): CompatResult {
  const files: Record<string, string> = {};
  const applied: string[] = [];
  for (const edit of SOURCE_EDITS) {
    if (!atLeast(kernel, edit.since)) continue;
    let hit = false;
    for (const f of edit.files) {
      const text = files[f] ?? sources[f];
      if (text === undefined) continue;
      const find = new RegExp(edit.find.source, edit.find.flags);
      if (!find.test(text)) continue;
      files[f] = text.replace(new RegExp(edit.find.source, edit.find.flags), edit.replace);
      hit = true;
    }
    if (hit) applied.push(edit.name);
  }
  const all = Object.values(sources).join('\n');
  const defines = HEADER_DEFINES.filter((d) => atLeast(kernel, d.since) && d.used.test(all));
  applied.push(...defines.map((d) => d.name));
  const header = defines.length
    ? ['/* Written by alloc-balance (preset dpdk-kni): what this old KNI needs from a newer kernel. */', ...defines.flatMap((d) => d.lines), ''].join('\n')
    : '';
  return { files, header, applied };
}

/** Every file an edit or a define may look at, relative to the KNI dir. */
export const COMPAT_FILES: readonly string[] = [
  ...new Set([
    ...SOURCE_EDITS.flatMap((e) => e.files),
    'kni_misc.c',
    `${IGB}/igb_main.c`,
    `${IGB}/kcompat.h`,
    `${IXGBE}/kcompat.h`,
    `${IXGBE}/ixgbe_main.c`,
    `${IXGBE}/kcompat.c`,
    `${IGB}/igb_ethtool.c`,
    `${IXGBE}/ixgbe_ethtool.c`,
  ]),
];

/** `5.10.0-46-amd64` -> [5, 10]. */
export function kernelVersionOf(release: string): KernelVersion | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : null;
}
