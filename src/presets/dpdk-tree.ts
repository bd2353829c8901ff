// What a DPDK source tree holds that matters for building and running KNI: version, where
// the module lives, which build systems the tree offers. Reads files; decides nothing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { KNI_REMOVED_IN, parseDpdkVersion, versionAtLeast, versionFromMesonBuild, versionFromRteVersionHeader, type DpdkVersion } from './dpdk-version.js';

export type KniLayout = 'kernel/linux/kni' | 'lib/librte_eal/linuxapp/kni';

/**
 * How the tree's meson build reads `-Dkernel_dir`: `build-dir` (v21.02+: the Kbuild dir itself,
 * or a dir whose build/ is) or `parent-of-build` (older: always `<kernel_dir>/build`).
 */
type MesonKernelDirStyle = 'build-dir' | 'parent-of-build';

export interface DpdkTree {
  /** Absolute path of the tree. */
  root: string;
  version: DpdkVersion | null;
  versionSource: 'VERSION' | 'meson.build' | 'rte_version.h' | null;
  /** Directory of the KNI module, relative to root; null when the tree has none. */
  kniDir: string | null;
  layout: KniLayout | null;
  hasMeson: boolean;
  /** kernel/linux/kni/meson.build: the meson build can make rte_kni.ko. */
  hasKniMesonBuild: boolean;
  mesonKernelDir: MesonKernelDirStyle;
  /** Option names in meson_options.txt. */
  mesonOptions: string[];
  /** The KNI dir has a Kbuild file (v18.11+); older ones have a DPDK-make Makefile only. */
  hasKbuildFile: boolean;
  /** The KNI dir has the ethtool code of the igb and ixgbe NICs (up to v19.05). */
  hasKniEthtool: boolean;
  /** The tree has DPDK's own make build system (mk/, up to v20.08). */
  hasLegacyMake: boolean;
  /** examples/kni exists (up to v22.07). */
  hasKniExample: boolean;
  /** drivers/net/kni exists (the net_kni PMD). */
  hasNetKniPmd: boolean;
  /** app/test-pmd exists. */
  hasTestpmd: boolean;
  /** config/rte_config.h exists (meson-era trees). */
  hasConfigHeader: boolean;
  /** Include dirs (relative) the module may need, those of the known layouts that exist. */
  includeDirs: string[];
  /** Sources of a make-era KNI dir without a Kbuild file (from its Makefile's SRCS lines). */
  legacySources: string[];
  /** true when the tree is a DPDK tree without KNI (v23.11+): nothing to build. */
  removed: boolean;
}

/** Header dirs of the DPDK layouts from v17.11 to v23.07 (lib/librte_eal/linux/include: v20.05..v20.08), in the order the module wants them. */
const INCLUDE_CANDIDATES = [
  'lib/eal/include',
  'lib/kni',
  'lib/librte_eal/include',
  'lib/librte_kni',
  'lib/librte_eal/linux/include',
  'lib/librte_eal/linux/eal/include',
  'lib/librte_eal/linuxapp/eal/include',
  'lib/librte_eal/common/include',
];

const VERSION_HEADERS = ['lib/eal/include/rte_version.h', 'lib/librte_eal/include/rte_version.h', 'lib/librte_eal/common/include/rte_version.h'];

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readIfExists(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** Option names declared in a meson_options.txt. */
function mesonOptionNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/^\s*option\s*\(\s*'([^']+)'/gm)) names.push(m[1]);
  return names;
}

/** kernel/linux/meson.build: does `-Dkernel_dir` name the Kbuild dir, or its parent? */
function mesonKernelDirStyle(kernelLinuxMeson: string | null): MesonKernelDirStyle {
  if (kernelLinuxMeson && /kernel_build_dir/.test(kernelLinuxMeson)) return 'build-dir';
  return 'parent-of-build';
}

/**
 * Sources from a DPDK-make Makefile: `SRCS-y` lines, and `SRCS-$(CONFIG_X)` lines for the
 * config names in `enabled` (DPDK's defaults, e.g. CONFIG_RTE_KNI_KMOD_ETHTOOL).
 */
export function legacyMakeSources(makefile: string, enabled: readonly string[]): string[] {
  const sources: string[] = [];
  const text = makefile.replace(/\\\n/g, ' ');
  for (const m of text.matchAll(/^\s*SRCS-(y|\$\((CONFIG_[A-Z0-9_]+)\))\s*[:+]?=\s*(.*)$/gm)) {
    if (m[1] !== 'y' && !enabled.includes(m[2])) continue;
    for (const f of m[3].trim().split(/\s+/)) if (f.endsWith('.c')) sources.push(f);
  }
  return [...new Set(sources)];
}

/** The config options DPDK's make build enabled by default for the KNI module. */
export const LEGACY_DEFAULT_CONFIG = ['CONFIG_RTE_KNI_KMOD_ETHTOOL'];

function detectVersion(root: string): { version: DpdkVersion | null; source: DpdkTree['versionSource'] } {
  const file = readIfExists(join(root, 'VERSION'));
  if (file !== null) {
    const v = parseDpdkVersion(file);
    if (v) return { version: v, source: 'VERSION' };
  }
  const meson = readIfExists(join(root, 'meson.build'));
  const fromMeson = meson ? versionFromMesonBuild(meson) : null;
  if (fromMeson && parseDpdkVersion(fromMeson)) return { version: parseDpdkVersion(fromMeson), source: 'meson.build' };
  for (const h of VERSION_HEADERS) {
    const text = readIfExists(join(root, h));
    const v = text ? versionFromRteVersionHeader(text) : null;
    if (v && parseDpdkVersion(v)) return { version: parseDpdkVersion(v), source: 'rte_version.h' };
  }
  return { version: null, source: null };
}

/** Reads what matters in a DPDK tree. Throws a UsageError when dir is not a DPDK tree. */
export function detectDpdkTree(dir: string): DpdkTree {
  const root = resolve(dir);
  if (!isDir(root)) throw new UsageError(`DPDK tree ${root} does not exist or is not a directory: set module-dir to the DPDK checkout`);
  const { version, source } = detectVersion(root);
  const layout: KniLayout | null = isDir(join(root, 'kernel/linux/kni'))
    ? 'kernel/linux/kni'
    : isDir(join(root, 'lib/librte_eal/linuxapp/kni'))
      ? 'lib/librte_eal/linuxapp/kni'
      : null;
  const looksLikeDpdk = version !== null || isDir(join(root, 'lib/eal')) || isDir(join(root, 'lib/librte_eal'));
  if (!looksLikeDpdk) {
    throw new UsageError(
      `${root} is not a DPDK tree (no VERSION file, no version in meson.build, no lib/eal or lib/librte_eal): ` +
        `set module-dir to the DPDK checkout, or use preset: none for another module`,
    );
  }
  const kniDir = layout;
  const mesonOptionsText = readIfExists(join(root, 'meson_options.txt'));
  const makefile = kniDir ? readIfExists(join(root, kniDir, 'Makefile')) : null;
  const hasKbuildFile = kniDir !== null && existsSync(join(root, kniDir, 'Kbuild'));
  return {
    root,
    version,
    versionSource: source,
    kniDir,
    layout,
    hasMeson: existsSync(join(root, 'meson.build')),
    hasKniMesonBuild: existsSync(join(root, 'kernel/linux/kni/meson.build')),
    mesonKernelDir: mesonKernelDirStyle(readIfExists(join(root, 'kernel/linux/meson.build'))),
    mesonOptions: mesonOptionsText ? mesonOptionNames(mesonOptionsText) : [],
    hasKbuildFile,
    hasKniEthtool: kniDir !== null && isDir(join(root, kniDir, 'ethtool')),
    hasLegacyMake: existsSync(join(root, 'mk/rte.vars.mk')),
    hasKniExample: isDir(join(root, 'examples/kni')),
    hasNetKniPmd: isDir(join(root, 'drivers/net/kni')),
    hasTestpmd: isDir(join(root, 'app/test-pmd')),
    hasConfigHeader: existsSync(join(root, 'config/rte_config.h')),
    includeDirs: INCLUDE_CANDIDATES.filter((d) => isDir(join(root, d))),
    legacySources: !hasKbuildFile && makefile ? legacyMakeSources(makefile, LEGACY_DEFAULT_CONFIG) : [],
    removed: layout === null,
  };
}

/** The tree as detectDpdkTree saw it, refused with a clear message when it has no KNI to test. */
export function requireKni(tree: DpdkTree): DpdkTree & { kniDir: string; layout: KniLayout } {
  if (tree.kniDir === null || tree.layout === null) {
    const v = tree.version;
    if (v && versionAtLeast(v, KNI_REMOVED_IN)) {
      throw new UsageError(
        `DPDK ${v.text} in ${tree.root} has no KNI: it was removed in DPDK ${KNI_REMOVED_IN}. ` +
          `Test a tree up to v23.07 with preset: dpdk-kni, or your own module with preset: none`,
      );
    }
    throw new UsageError(
      `DPDK tree ${tree.root}${v ? ` (${v.text})` : ''} has no KNI module: ` +
        `neither kernel/linux/kni (v18.05..v23.07) nor lib/librte_eal/linuxapp/kni (up to v18.02) exists`,
    );
  }
  if (!tree.hasKbuildFile && tree.legacySources.length === 0) {
    throw new UsageError(`${join(tree.root, tree.kniDir)} has neither a Kbuild file nor a Makefile listing SRCS: cannot tell which sources make rte_kni.ko`);
  }
  return tree as DpdkTree & { kniDir: string; layout: KniLayout };
}
