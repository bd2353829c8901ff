import { describe, expect, it } from 'vitest';
import { kernelVersionOf, kniCompat } from '../../src/presets/kni-compat.js';

// Lines shaped like the v19.05 KNI sources the edits are for (the tree itself is not in the repository).
const SOURCES = {
  'kni_net.c': 'static void\nkni_net_tx_timeout(struct net_device *dev)\n{\n}\n',
  'kni_misc.c':
    'if (kni->lad_dev)\n\tfree_netdev(kni->lad_dev);\nether_addr_copy(net_dev->dev_addr, kni->lad_dev->dev_addr);\nmemcpy(net_dev->dev_addr, dev_info.mac_addr, ETH_ALEN);\nrandom_ether_addr(net_dev->dev_addr);\n',
  'kni_ethtool.c':
    'static void\nkni_get_ringparam(struct net_device *dev, struct ethtool_ringparam *ring)\n{\n\tpriv->lad_dev->ethtool_ops->get_ringparam(priv->lad_dev, ring);\n}\n',
  'ethtool/igb/igb_main.c':
    'static void igb_tx_timeout(struct net_device *);\nstatic void igb_tx_timeout(struct net_device *netdev)\n{\n\tnetif_napi_add(adapter->netdev, &q_vector->napi, igb_poll, 64);\n\tfrag->page_offset += pull_len;\n\tread_barrier_depends();\n}\n',
  'ethtool/igb/igb_ethtool.c':
    'static int igb_set_coalesce(struct net_device *netdev,\n\t\t\t    struct ethtool_coalesce *ec)\n{\n\treturn sizeof(FIELD_SIZEOF(struct igb_adapter, stats));\n}\n',
  'ethtool/igb/kcompat.h': '#include <linux/pci-aspm.h>\n#ifndef num_online_cpus\n#define num_online_cpus() smp_num_cpus\n#endif\nstruct skb_frag_struct *f;\n',
  'ethtool/igb/e1000_phy.c': '\t\tif (ret_val)\n\t\t\tusec_delay(usec_interval);\n\t\tret_val = hw->phy.ops.read_reg(hw, PHY_STATUS, &phy_status);\n',
};

describe('compatibility edits of an old KNI for a newer kernel', () => {
  it('on 5.10: the edits 5.10 needs, each named once, none of 5.15 and later', () => {
    const r = kniCompat(SOURCES, [5, 10]);
    expect(r.files['kni_net.c']).toContain('kni_net_tx_timeout(struct net_device *dev, unsigned int txqueue)');
    expect(r.files['ethtool/igb/igb_main.c']).toContain('static void igb_tx_timeout(struct net_device *, unsigned int txqueue);');
    expect(r.files['ethtool/igb/igb_main.c']).toContain('static void igb_tx_timeout(struct net_device *netdev, unsigned int txqueue)');
    expect(r.files['ethtool/igb/igb_main.c']).toContain('skb_frag_off_add(frag, pull_len);');
    expect(r.files['ethtool/igb/igb_main.c']).toContain('netif_napi_add(adapter->netdev');
    expect(r.files['ethtool/igb/kcompat.h']).toContain('#include <linux/pci.h>');
    expect(r.files['ethtool/igb/e1000_phy.c']).toContain('__udelay(usec_interval);');
    expect(r.header).toContain('#define FIELD_SIZEOF(t, f) sizeof_field(t, f)');
    expect(r.header).toContain('#define num_online_cpus num_online_cpus');
    expect(r.header).not.toContain('eth_random_addr');
    expect(r.files['ethtool/igb/igb_ethtool.c']).toBeUndefined();
    expect(new Set(r.applied).size).toBe(r.applied.length);
    expect(r.applied).toHaveLength(9);
  });

  it('on 6.1: also the ethtool callbacks, the NAPI weight and the renamed helpers', () => {
    const r = kniCompat(SOURCES, [6, 1]);
    expect(r.files['ethtool/igb/igb_ethtool.c']).toContain(
      'igb_set_coalesce(struct net_device *netdev,\n\t\t\t    struct ethtool_coalesce *ec, struct kernel_ethtool_coalesce *kernel_arg, struct netlink_ext_ack *extack)',
    );
    expect(r.files['kni_ethtool.c']).toContain(
      'kni_get_ringparam(struct net_device *dev, struct ethtool_ringparam *ring, struct kernel_ethtool_ringparam *kernel_arg',
    );
    expect(r.files['kni_ethtool.c']).toContain('->get_ringparam(priv->lad_dev, ring, kernel_arg, extack);');
    expect(r.files['ethtool/igb/igb_main.c']).toContain('netif_napi_add_weight(adapter->netdev');
    expect(r.header).toContain('#define random_ether_addr eth_random_addr');
    expect(r.files['kni_misc.c']).toContain('eth_hw_addr_random(net_dev);');
    expect(r.files['kni_misc.c']).toContain('eth_hw_addr_set(net_dev, kni->lad_dev->dev_addr);\neth_hw_addr_set(net_dev, dev_info.mac_addr);');
    expect(r.applied).toHaveLength(16);
  });

  it('never touches the lines that allocate or free, and leaves a tree without the old code alone', () => {
    const r = kniCompat(SOURCES, [6, 12]);
    expect(r.files['kni_misc.c']).toContain('if (kni->lad_dev)\n\tfree_netdev(kni->lad_dev);');
    for (const [f, text] of Object.entries(r.files)) {
      const lines = (t: string) => t.split('\n').filter((l) => /free_netdev|alloc_etherdev|ioremap|kfree|kzalloc/.test(l));
      expect(lines(text)).toEqual(lines(SOURCES[f as keyof typeof SOURCES]));
    }
    const modern = kniCompat({ 'kni_net.c': 'kni_net_tx_timeout(struct net_device *dev, unsigned int txqueue)\n' }, [6, 12]);
    expect(modern).toEqual({ files: {}, header: '', applied: [] });
    expect(kniCompat(SOURCES, [4, 19])).toEqual({ files: {}, header: '', applied: [] });
  });

  it('reads the kernel version of a release', () => {
    expect(kernelVersionOf('5.10.0-46-amd64')).toEqual([5, 10]);
    expect(kernelVersionOf('6.12.118+deb12-amd64')).toEqual([6, 12]);
    expect(kernelVersionOf('unknown')).toBeNull();
  });
});
