// Preset dpdk-kni: from a DPDK tree and a port mask to everything a run needs - how to build
// rte_kni.ko and the user-space workload, the workload, module parameters, pairs, hugepages.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PairSpec } from '../core/model.js';
import type { BuildPlan } from '../module-build/build-plan.js';
import { detectDpdkTree, requireKni, type DpdkTree } from './dpdk-tree.js';
import { KNI_EXAMPLE_UNTIL } from './dpdk-version.js';
import { KNI_PAIRS, defaultKniTrack, type KniPairInfo } from './kni-pairs.js';
import { IGB_UIO_DIRS, planIgbUioBuild, planKniModuleBuild } from './kni-module-build.js';
import { COMPAT_FILES, type KernelVersion, kernelVersionOf, kniCompat } from './kni-compat.js';
import { kniModuleArgs, type DpdkKniOptions } from './kni-options.js';
import { kniHugepages, kniInterfaceNames, kniWorkload } from './kni-workload.js';
import { defaultNumber } from '../inputs/table.js';
import type { Workload } from '../inputs/workload.js';
import { machineProbe, type Probe } from './prerequisites.js';
import { planUserspaceBuild, VIRTUAL_PORT_DRIVERS, type InstructionSet, type KniApp, type UserspacePlan } from './userspace-build.js';
import { defaultCacheRoot, userspaceCache, type UserspaceCache } from './userspace-cache-key.js';

interface DpdkKniEnvironment {
  /** Where the module build goes (one per side). Default: a dir under the OS temp dir keyed on the tree. */
  moduleOutDir?: string;
  /** Root of the user-space cache. Default: defaultCacheRoot(). */
  cacheRoot?: string;
  /** CPUs the workload may use. Default: the vm-cpus input's. */
  cpus?: number;
  /** Are meson and ninja on PATH? Default: looked up. */
  mesonAvailable?: boolean;
  /** Default: the hold input's (and so for the ready timeout). */
  holdSeconds?: number;
  readyTimeoutSeconds?: number;
  /** The CPU the workload program is built for. Default: native (it runs on this machine). */
  instructionSet?: InstructionSet;
  /** NIC ports (dpdk-ports: nic) on a VM's emulated NICs: their PCI addresses, bound for the run. */
  nicAddresses?: string[];
}

/** NICs the run hands to DPDK: to igb_uio built from the tree, or to the kernel's uio_pci_generic. */
export interface PresetNics {
  addresses: string[];
  driver: 'igb_uio' | 'uio_pci_generic';
  /** Builds igb_uio.ko (its `output`); absent for uio_pci_generic. */
  build?: BuildPlan;
}

interface DpdkKniPreset {
  tree: DpdkTree;
  /** Builds rte_kni.ko; `output` is the .ko. */
  moduleBuild: BuildPlan;
  /** Builds the workload's program into the cache; skip it when `userspaceBuild.program` exists. */
  userspaceBuild: UserspacePlan;
  cache: UserspaceCache;
  app: KniApp;
  workload: Workload;
  /** KNI interfaces the workload creates each cycle. */
  interfaces: string[];
  moduleName: 'rte_kni';
  moduleArgs: string;
  track: PairSpec[];
  /** What the preset knows about each KNI pair (exact or not, and why). */
  pairs: readonly KniPairInfo[];
  /** 2 MiB pages to reserve on the target. */
  hugepages: number;
  nics?: PresetNics;
  /** Lines worth showing in the log: which build system, which app, why. */
  notes: string[];
  /** Of those, the ones the report keeps with the side: how the module was changed to build. */
  reportNotes: string[];
}

/** The target kernel's version, as its build dir says it; null when it does not. */
function kernelVersionAt(kernelBuildDir: string): KernelVersion | null {
  try {
    return kernelVersionOf(readFileSync(join(kernelBuildDir, 'include/config/kernel.release'), 'utf8').trim());
  } catch {
    return null;
  }
}

/** The texts of those of `files` (relative to `dir`) that exist, by their relative path. */
function readSources(dir: string, files: readonly string[]): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const f of files) if (existsSync(join(dir, f))) sources[f] = readFileSync(join(dir, f), 'utf8');
  return sources;
}

export function mesonOnPath(probe: Probe = machineProbe()): boolean {
  return probe.program('meson') && probe.program('ninja');
}

export function dpdkKniPreset(treeDir: string, options: DpdkKniOptions, kernelBuildDir: string, env: DpdkKniEnvironment = {}): DpdkKniPreset {
  const tree = requireKni(detectDpdkTree(treeDir));
  const mesonAvailable = env.mesonAvailable ?? mesonOnPath();
  const notes: string[] = [];
  const app: KniApp = tree.hasKniExample ? 'kni-example' : 'testpmd';
  if (app === 'testpmd') {
    notes.push(`examples/kni is not in this tree (DPDK after v${KNI_EXAMPLE_UNTIL}): the workload is testpmd with net_kni ports`);
  }
  const moduleOutDir = env.moduleOutDir ?? join(tmpdir(), `alloc-balance-kni-${createHash('sha256').update(tree.root).digest('hex').slice(0, 12)}`);
  // The edits an old KNI (its ethtool code, up to v19.05) and its igb_uio need for the target kernel.
  const kernel = kernelVersionAt(kernelBuildDir);
  const compat = kernel && tree.hasKniEthtool ? kniCompat(readSources(join(tree.root, tree.kniDir), COMPAT_FILES), kernel) : null;
  const moduleBuild = planKniModuleBuild(tree, {
    kernelBuildDir,
    outDir: moduleOutDir,
    buildSystem: options.build,
    mesonAvailable,
    compat: compat ?? undefined,
  });
  notes.push(`module: ${moduleBuild.description}`);
  const reportNotes: string[] = [];
  if (kernel && compat && compat.applied.length > 0 && moduleBuild.kind === 'kbuild') {
    reportNotes.push(
      `module built with ${compat.applied.length} compatibility edit${compat.applied.length === 1 ? '' : 's'} for Linux ${kernel.join('.')} (the build copy only): ${compat.applied.join('; ')}`,
    );
    notes.push(...reportNotes);
  }

  const drivers = options.drivers.length > 0 ? options.drivers : options.portSource === 'null' ? VIRTUAL_PORT_DRIVERS : [];
  const buildSystem = options.build === 'kbuild' ? 'auto' : options.build;
  const instructionSet = env.instructionSet ?? 'native';
  const cache = userspaceCache(tree, app, [buildSystem, `isa=${instructionSet}`, ...drivers], env.cacheRoot ?? defaultCacheRoot());
  const userspaceBuild = planUserspaceBuild(tree, { app, cacheDir: cache.dir, buildSystem, mesonAvailable, drivers, instructionSet });
  notes.push(`workload program: ${userspaceBuild.description} for the ${instructionSet} instruction set, cached as ${cache.key}`);

  const workload = kniWorkload({
    app,
    program: userspaceBuild.program,
    ports: options.ports,
    portSource: app === 'testpmd' ? 'null' : options.portSource,
    cpus: env.cpus ?? defaultNumber('vm-cpus'),
    ealArgs: options.ealArgs,
    appArgs: options.appArgs,
    holdSeconds: env.holdSeconds ?? defaultNumber('hold'),
    readyTimeoutSeconds: env.readyTimeoutSeconds ?? defaultNumber('ready-timeout'),
  });
  let nics: PresetNics | undefined;
  if (env.nicAddresses && app === 'kni-example' && options.portSource === 'nic') {
    const dir = IGB_UIO_DIRS.find((d) => existsSync(join(tree.root, d, 'igb_uio.c')));
    const uioCompat = dir && kernel ? kniCompat(readSources(join(tree.root, dir), ['igb_uio.c']), kernel) : undefined;
    nics = dir
      ? {
          addresses: env.nicAddresses,
          driver: 'igb_uio',
          build: planIgbUioBuild(tree, dir, { kernelBuildDir, outDir: moduleOutDir, compat: uioCompat }),
        }
      : { addresses: env.nicAddresses, driver: 'uio_pci_generic' };
    notes.push(`NICs ${env.nicAddresses.join(', ')} bound to ${nics.driver}${dir ? ` (built from ${dir})` : ' (the tree has no igb_uio)'} for the run`);
  }
  const interfaces = kniInterfaceNames(app, app === 'testpmd' ? options.ports.map((_, i) => i) : options.ports);
  return {
    tree,
    moduleBuild,
    userspaceBuild,
    cache,
    app,
    workload,
    interfaces,
    moduleName: 'rte_kni',
    moduleArgs: kniModuleArgs(options),
    track: defaultKniTrack(),
    pairs: KNI_PAIRS,
    hugepages: options.hugepages ?? kniHugepages(options.ports.length),
    ...(nics ? { nics } : {}),
    notes,
    reportNotes,
  };
}
