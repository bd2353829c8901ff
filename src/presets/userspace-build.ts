// How to build the user-space side of the KNI workload (examples/kni, or testpmd for trees
// without the example) into a cache directory. Pure: returns a BuildPlan.
import { join, relative } from 'node:path';
import { UsageError } from '../errors.js';
import type { BuildPlan, BuildStep } from '../module-build/build-plan.js';
import type { DpdkTree } from './dpdk-tree.js';

export type KniApp = 'kni-example' | 'testpmd';
type UserspaceBuildSystem = 'meson' | 'make' | 'auto';

interface UserspaceBuildOptions {
  app: KniApp;
  /** The cache entry's directory (absolute): the build goes there. */
  cacheDir: string;
  buildSystem: UserspaceBuildSystem;
  mesonAvailable: boolean;
  /**
   * Drivers to build (meson `enable_drivers`, where the tree has it). Empty: all of them, which
   * is what a NIC runner needs unless it names its PMD.
   */
  drivers: string[];
  /**
   * `native`: for the build machine's CPU (DPDK's default; right when the workload runs on this
   * machine). `generic`: a portable instruction set, for a VM whose CPU is not the build machine's.
   */
  instructionSet: InstructionSet;
  jobs?: number;
}

export type InstructionSet = 'native' | 'generic';

export interface UserspacePlan extends BuildPlan {
  /** The program the workload runs. */
  program: string;
}

/** Optional libraries neither the KNI example nor testpmd use (kni itself stays enabled). */
const UNUSED_OPTIONAL_LIBS = ['cfgfile', 'flow_classify', 'gpudev', 'jobstats', 'node', 'pipeline', 'port', 'table', 'vhost'];

/** The drivers the workload needs with net_null ports (and net_kni ports for testpmd). */
export const VIRTUAL_PORT_DRIVERS = ['bus/pci', 'bus/vdev', 'mempool/ring', 'net/null', 'net/kni'];

/** The x86_64 target name of DPDK's make build (`linuxapp` until v18.08). */
function legacyMakeTarget(tree: DpdkTree): string {
  return tree.layout === 'lib/librte_eal/linuxapp/kni' || (tree.version !== null && tree.version.year * 100 + tree.version.month < 1811)
    ? 'x86_64-native-linuxapp-gcc'
    : 'x86_64-native-linux-gcc';
}

function chooseUserspaceBuildSystem(tree: DpdkTree, o: Pick<UserspaceBuildOptions, 'buildSystem' | 'mesonAvailable'>): 'meson' | 'make' {
  if (o.buildSystem === 'meson') {
    if (!tree.hasMeson) throw new UsageError(`dpdk-build: meson is not possible for ${tree.root}: the tree has no meson.build. Use dpdk-build: auto`);
    return 'meson';
  }
  if (o.buildSystem === 'make') return 'make';
  return tree.hasMeson && (o.mesonAvailable || !tree.hasLegacyMake) ? 'meson' : 'make';
}

export function planUserspaceBuild(tree: DpdkTree, o: UserspaceBuildOptions): UserspacePlan {
  if (o.app === 'kni-example' && !tree.hasKniExample) {
    throw new UsageError(`${tree.root} has no examples/kni (DPDK after v22.07): the workload runs testpmd with net_kni ports instead`);
  }
  if (o.app === 'testpmd' && !tree.hasTestpmd) throw new UsageError(`${tree.root} has no app/test-pmd: cannot run a net_kni workload`);
  const buildSystem = chooseUserspaceBuildSystem(tree, o);
  return buildSystem === 'meson' ? mesonPlan(tree, o) : makePlan(tree, o);
}

function mesonPlan(tree: DpdkTree, o: UserspaceBuildOptions): UserspacePlan {
  const builddir = join(o.cacheDir, 'meson');
  // Static: the program then runs without the build dir, so only the program is cached.
  const setup = ['meson', 'setup', builddir, tree.root, '-Ddefault_library=static'];
  // gcc 10 made -fno-common the default; DPDK defined variables in headers until v20.05.
  if (tree.version !== null && tree.version.year * 100 + tree.version.month < 2005) setup.push('-Dc_args=-fcommon');
  const has = (name: string) => tree.mesonOptions.includes(name);
  if (has('enable_kmods')) setup.push('-Denable_kmods=false');
  if (has('tests')) setup.push('-Dtests=false');
  if (has('enable_docs')) setup.push('-Denable_docs=false');
  if (o.app === 'kni-example' && has('examples')) setup.push('-Dexamples=kni');
  if (o.app === 'testpmd' && has('enable_apps')) setup.push('-Denable_apps=test-pmd');
  // From v22.11 the kni library is deprecated and off by default; net_kni and the example need it.
  if (has('disable_libs')) setup.push(`-Ddisable_libs=${UNUSED_OPTIONAL_LIBS.join(',')}`);
  if (o.instructionSet === 'generic') {
    if (has('cpu_instruction_set')) setup.push('-Dcpu_instruction_set=generic');
    else if (has('machine')) setup.push('-Dmachine=default');
  }
  if (o.drivers.length > 0 && has('enable_drivers')) setup.push(`-Denable_drivers=${o.drivers.join(',')}`);
  const target = o.app === 'kni-example' ? 'examples/dpdk-kni' : 'app/dpdk-testpmd';
  const program = join(o.cacheDir, 'bin', o.app === 'kni-example' ? 'dpdk-kni' : 'dpdk-testpmd');
  const steps: BuildStep[] = [
    { kind: 'run', argv: ['rm', '-rf', builddir] },
    { kind: 'run', argv: setup },
    { kind: 'run', argv: ['ninja', '-C', builddir, target] },
    { kind: 'run', argv: ['mkdir', '-p', join(o.cacheDir, 'bin')] },
    { kind: 'run', argv: ['cp', join(builddir, target), program] },
    { kind: 'run', argv: ['rm', '-rf', builddir] },
  ];
  return { kind: 'meson', description: `${target} through the tree's meson build`, steps, env: {}, output: program, program };
}

function makePlan(tree: DpdkTree, o: UserspaceBuildOptions): UserspacePlan {
  const bin = join(o.cacheDir, 'bin');
  const jobs = `-j${o.jobs ?? 2}`;
  if (o.app === 'testpmd')
    throw new UsageError('testpmd builds with meson only (DPDK v22.11..v23.07 have no make build): install meson and ninja, or use dpdk-build: auto');
  const steps: BuildStep[] = [{ kind: 'run', argv: ['mkdir', '-p', bin] }];
  let built: string;
  if (tree.hasLegacyMake) {
    // DPDK's own make build (up to v20.08): the SDK first, then the example against it.
    const target = legacyMakeTarget(tree);
    const sdk = join(o.cacheDir, target);
    const exampleOut = join(o.cacheDir, 'kni-example');
    steps.push({ kind: 'run', argv: ['make', '-C', tree.root, 'config', `T=${target}`, `O=${sdk}`] });
    // The make build's portable machine: mk/machine/default (corei7).
    if (o.instructionSet === 'generic') {
      steps.push({ kind: 'run', argv: ['sed', '-i', 's/^CONFIG_RTE_MACHINE=.*/CONFIG_RTE_MACHINE="default"/', join(sdk, '.config')] });
    }
    // Compilers newer than the tree: gcc 10 made -fno-common the default (the make era's headers
    // define variables in headers), and a git checkout is a "development build" whose -Werror
    // turns each new warning into an error.
    const compat = ['EXTRA_CFLAGS=-fcommon', 'RTE_DEVEL_BUILD=n'];
    steps.push(
      { kind: 'run', argv: ['make', jobs, '-C', sdk, 'CONFIG_RTE_KNI_KMOD=n', 'CONFIG_RTE_EAL_IGB_UIO=n', ...compat] },
      {
        kind: 'run',
        argv: [
          'make',
          jobs,
          '-C',
          join(tree.root, 'examples/kni'),
          `RTE_SDK=${tree.root}`,
          `RTE_TARGET=${relative(tree.root, sdk)}`,
          `O=${exampleOut}`,
          ...compat,
        ],
      },
    );
    built = join(exampleOut, 'kni');
  } else {
    // Meson-era example Makefiles build build/kni against an installed DPDK (pkg-config libdpdk).
    steps.push({ kind: 'run', argv: ['make', jobs, '-C', join(tree.root, 'examples/kni')] });
    built = join(tree.root, 'examples/kni/build/kni');
  }
  const program = join(bin, 'dpdk-kni');
  steps.push({ kind: 'run', argv: ['cp', built, program] });
  return { kind: 'make', description: 'examples/kni with make', steps, env: {}, output: program, program };
}
