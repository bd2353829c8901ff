import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDpdkTree, legacyMakeSources, LEGACY_DEFAULT_CONFIG, requireKni } from '../../src/presets/dpdk-tree.js';
import { compareDpdkVersions, parseDpdkVersion, versionFromMesonBuild, versionFromRteVersionHeader } from '../../src/presets/dpdk-version.js';
import { UsageError } from '../../src/errors.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/dpdk-tree');
const scratch = useTempDir('ab-dpdk-tree-');

/** A tree made of the given files (path -> content; a path ending in / is an empty dir). */
function tree(name: string, files: Record<string, string>): string {
  const root = join(scratch, name);
  for (const [p, content] of Object.entries(files)) {
    if (p.endsWith('/')) mkdirSync(join(root, p), { recursive: true });
    else {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), content);
    }
  }
  return root;
}

// The SRCS part of v18.02's lib/librte_eal/linuxapp/kni/Makefile (DPDK's make build).
const MAKEFILE_18_02 = `include $(RTE_SDK)/mk/rte.vars.mk
MODULE = rte_kni
MODULE_CFLAGS += -I$(SRCDIR) --param max-inline-insns-single=50
SRCS-y := ethtool/ixgbe/ixgbe_main.c
SRCS-y += ethtool/ixgbe/ixgbe_api.c
SRCS-y += ethtool/igb/igb_main.c
SRCS-y += kni_misc.c
SRCS-y += kni_net.c
SRCS-y += kni_ethtool.c
SRCS-$(CONFIG_RTE_KNI_VHOST) += kni_vhost.c
include $(RTE_SDK)/mk/rte.module.mk
`;

describe('DPDK versions', () => {
  it.each([
    ['22.07.0', 22, 7, 0],
    ['23.11.0-rc1', 23, 11, 0],
    ['18.02', 18, 2, 0],
    ['17.11.10\n', 17, 11, 10],
  ])('parses %j', (text, year, month, patch) => {
    expect(parseDpdkVersion(text)).toMatchObject({ year, month, patch });
  });

  it.each(['', 'v22.07', '22.13.0', 'main'])('refuses %j', (text) => {
    expect(parseDpdkVersion(text)).toBeNull();
  });

  it('orders releases', () => {
    const v = (t: string) => parseDpdkVersion(t)!;
    expect(compareDpdkVersions(v('22.07.0'), v('22.11.0'))).toBeLessThan(0);
    expect(compareDpdkVersions(v('23.11.0'), v('23.07.1'))).toBeGreaterThan(0);
    expect(compareDpdkVersions(v('20.11.3'), v('20.11.3'))).toBe(0);
  });

  it('reads the version of older meson.build files and of rte_version.h', () => {
    expect(versionFromMesonBuild("project('DPDK', 'C',\n\tversion: '18.02.0',\n\tlicense: 'BSD')")).toBe('18.02.0');
    expect(versionFromMesonBuild("project('DPDK', 'C', version: run_command(find_program('cat'), files('VERSION')).stdout().strip())")).toBeNull();
    expect(versionFromRteVersionHeader('#define RTE_VER_YEAR 17\n#define RTE_VER_MONTH 5\n#define RTE_VER_MINOR 2\n')).toBe('17.05.2');
  });
});

describe('detectDpdkTree', () => {
  it('reads the v22.07-shaped fixture', () => {
    const t = detectDpdkTree(FIXTURE);
    expect(t).toMatchObject({
      root: FIXTURE,
      versionSource: 'VERSION',
      kniDir: 'kernel/linux/kni',
      layout: 'kernel/linux/kni',
      hasMeson: true,
      hasKniMesonBuild: true,
      mesonKernelDir: 'build-dir',
      hasKbuildFile: true,
      hasLegacyMake: false,
      hasKniExample: true,
      hasNetKniPmd: true,
      hasTestpmd: false,
      hasConfigHeader: true,
      includeDirs: ['lib/eal/include', 'lib/kni'],
      legacySources: [],
      removed: false,
    });
    expect(t.version?.text).toBe('22.07.0');
    expect(t.mesonOptions).toEqual(expect.arrayContaining(['enable_kmods', 'kernel_dir', 'examples', 'tests']));
  });

  it('reads a v22.11-shaped tree: KNI module and net_kni, no example', () => {
    const root = tree('v22.11', {
      VERSION: '22.11.0\n',
      'meson.build': "project('DPDK', 'C', version: run_command(find_program('cat', 'more'), files('VERSION')).stdout().strip())\n",
      'kernel/linux/kni/Kbuild': 'obj-m := rte_kni.o\n',
      'kernel/linux/kni/meson.build': '',
      'kernel/linux/meson.build': "kernel_build_dir = get_option('kernel_dir')\n",
      'lib/eal/include/': '',
      'lib/kni/': '',
      'drivers/net/kni/': '',
      'app/test-pmd/': '',
    });
    const t = requireKni(detectDpdkTree(root));
    expect(t).toMatchObject({ hasKniExample: false, hasNetKniPmd: true, hasTestpmd: true, layout: 'kernel/linux/kni' });
  });

  it('finds rte_kni_common.h where v20.05..v20.08 keep it (lib/librte_eal/linux/include)', () => {
    // As `git archive v20.08` lays it out: the last release with DPDK's make build.
    const root = tree('v20.08', {
      VERSION: '20.08.0\n',
      'meson.build': "project('DPDK', 'C', version: run_command(find_program('cat', 'more'), files('VERSION')).stdout().strip())\n",
      'mk/rte.vars.mk': '',
      'kernel/linux/kni/Kbuild': 'obj-m := rte_kni.o\n',
      'kernel/linux/kni/meson.build': '',
      'lib/librte_eal/include/rte_version.h': '',
      'lib/librte_eal/linux/include/rte_kni_common.h': '',
      'lib/librte_kni/': '',
      'examples/kni/': '',
      'config/rte_config.h': '',
    });
    const t = requireKni(detectDpdkTree(root));
    expect(t.includeDirs).toEqual(['lib/librte_eal/include', 'lib/librte_kni', 'lib/librte_eal/linux/include']);
    expect(t.hasLegacyMake).toBe(true);
  });

  it('reads a v18.02-shaped tree: module under lib/librte_eal/linuxapp/kni, sources from its Makefile', () => {
    const root = tree('v18.02', {
      'meson.build': "project('DPDK', 'C',\n\tversion: '18.02.0',\n\tlicense: 'BSD')\n",
      'mk/rte.vars.mk': '',
      'lib/librte_eal/linuxapp/kni/Makefile': MAKEFILE_18_02,
      'lib/librte_eal/linuxapp/eal/include/exec-env/rte_kni_common.h': '',
      'lib/librte_eal/common/include/rte_version.h': '#define RTE_VER_YEAR 18\n#define RTE_VER_MONTH 2\n',
      'examples/kni/': '',
      'config/rte_config.h': '',
    });
    const t = requireKni(detectDpdkTree(root));
    expect(t.version?.text).toBe('18.02.0');
    expect(t.versionSource).toBe('meson.build');
    expect(t).toMatchObject({
      layout: 'lib/librte_eal/linuxapp/kni',
      hasKbuildFile: false,
      hasKniMesonBuild: false,
      hasLegacyMake: true,
      mesonKernelDir: 'parent-of-build',
      includeDirs: ['lib/librte_eal/linuxapp/eal/include', 'lib/librte_eal/common/include'],
    });
    expect(t.legacySources).toEqual([
      'ethtool/ixgbe/ixgbe_main.c',
      'ethtool/ixgbe/ixgbe_api.c',
      'ethtool/igb/igb_main.c',
      'kni_misc.c',
      'kni_net.c',
      'kni_ethtool.c',
    ]);
  });

  it('takes config-gated sources only for the options DPDK enabled by default', () => {
    const mk =
      'SRCS-y := kni_misc.c\nSRCS-$(CONFIG_RTE_KNI_KMOD_ETHTOOL) += kni_ethtool.c \\\n\tethtool/igb/igb_main.c\nSRCS-$(CONFIG_RTE_KNI_VHOST) += kni_vhost.c\n';
    expect(legacyMakeSources(mk, LEGACY_DEFAULT_CONFIG)).toEqual(['kni_misc.c', 'kni_ethtool.c', 'ethtool/igb/igb_main.c']);
    expect(legacyMakeSources(mk, [])).toEqual(['kni_misc.c']);
  });

  it('reads the version from rte_version.h when there is neither VERSION nor a meson version', () => {
    const root = tree('v17.05', {
      'lib/librte_eal/common/include/rte_version.h': '#define RTE_VER_YEAR 17\n#define RTE_VER_MONTH 5\n#define RTE_VER_MINOR 1\n',
      'lib/librte_eal/linuxapp/kni/Makefile': 'SRCS-y := kni_misc.c\n',
    });
    const t = detectDpdkTree(root);
    expect(t.version?.text).toBe('17.05.1');
    expect(t.versionSource).toBe('rte_version.h');
  });

  it('refuses v23.11+ (KNI removed) with a message that says so', () => {
    const root = tree('v23.11', { VERSION: '23.11.0\n', 'meson.build': '', 'lib/eal/include/': '' });
    const t = detectDpdkTree(root);
    expect(t.removed).toBe(true);
    expect(() => requireKni(t)).toThrow(UsageError);
    expect(() => requireKni(t)).toThrow(/DPDK 23\.11\.0 .* has no KNI: it was removed in DPDK 23\.11/);
  });

  it('refuses a DPDK tree without KNI files and a directory that is not DPDK', () => {
    const noKni = tree('v22.07-stripped', { VERSION: '22.07.0\n', 'lib/eal/include/': '' });
    expect(() => requireKni(detectDpdkTree(noKni))).toThrow(/has no KNI module: neither kernel\/linux\/kni/);
    const other = tree('not-dpdk', { Makefile: 'obj-m := x.o\n' });
    expect(() => detectDpdkTree(other)).toThrow(/is not a DPDK tree .*module-dir/);
    expect(() => detectDpdkTree(join(scratch, 'missing'))).toThrow(/does not exist/);
  });
});
