// The bug of docs/case-rte-kni.md on the code that had it (not part of the test suite: DPDK
// v19.05 is not in the repository and CI cannot download it). DPDK's KNI ethtool code (up to
// v19.05) probes an igb NIC in kni_ioctl_create(): igb_kni_probe() allocates a netdev into
// kni->lad_dev that kni_dev_remove() never frees, and ioremap()s BAR0, never unmapped.
// This script takes a v19.05 tree, builds its user space with the tree's make build, and runs
// the action (`alloc-balance run`) in the lab VM with two emulated 82576 ports (vm-nics: igb:2):
// the base is the module as released, the PR the engineer's fix
// (`if (dev->lad_dev) free_netdev(dev->lad_dev);` in kni_dev_remove). The module and igb_uio get
// the compatibility edits the preset makes for the kernel (src/presets/kni-compat.ts).
// Usage (root): node scripts/original-bug.mjs --dpdk DIR [--kernel 5.10|6.1] [--cycles N] [--out DIR]
//   DIR: a DPDK v19.05 tree, e.g. `git archive v19.05 | tar x -C DIR` of DPDK's repository.
// Prints, per side, each traced pair's allocs, frees and leak per cycle with its sites.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { importSource } from './import-source.mjs';
import { scratchDir } from './scratch-dir.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { dpdk: { type: 'string' }, kernel: { type: 'string' }, cycles: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' } },
});
const fail = (msg) => {
  console.error(`original-bug: ${msg}`);
  process.exit(2);
};
if (!values.dpdk) fail('--dpdk DIR is required: a DPDK v19.05 tree (git archive v19.05 of DPDK)');
const TREE = resolve(values.dpdk);
const KNI = join(TREE, 'kernel/linux/kni');
if (!existsSync(join(KNI, 'ethtool/igb/igb_main.c')))
  fail(`${TREE} has no kernel/linux/kni/ethtool/igb: the bug needs a tree with the KNI ethtool code (v18.05..v19.05)`);
if (process.getuid?.() !== 0) fail('run as root (the VM lab and the make build of the lab cache)');
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) fail('dist/cli.js is missing: run "npm run build" first');

const L = await importSource(`
      export { findLabKernel, labDirOf } from './src/lab/lab-kernel.ts';
      export { COMPAT_FILES, kernelVersionOf, kniCompat } from './src/presets/kni-compat.ts';
    `);

const kernel = L.findLabKernel(values.kernel ?? '');
const version = L.kernelVersionOf(kernel.release);
const cycles = values.cycles ?? '3';
const work = scratchDir('alloc-balance-original-bug-', values.keep);
const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'alloc-balance-original-bug-out-')));
const log = (s) => console.error(`original-bug: ${s}`);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, ...opts });

// The compatibility edits of the module's sources for this kernel, and the header they need.
const sources = {};
for (const f of L.COMPAT_FILES) if (existsSync(join(KNI, f))) sources[f] = readFileSync(join(KNI, f), 'utf8');
const compat = L.kniCompat(sources, version);
log(`${compat.applied.length} compatibility edits for Linux ${version.join('.')}: ${compat.applied.join('; ')}`);

// User space: the KNI example with the tree's make build, for a portable CPU (the VM's is TCG's),
// only the igb PMD among the NIC drivers. Cached by the tree's path: a second run skips it.
const sdk = join('/var/cache/alloc-balance/original-bug', createHash('sha256').update(TREE).digest('hex').slice(0, 16));
const app = join(sdk, 'kni-example', 'kni');
if (!existsSync(app)) {
  log('building DPDK user space with its make build (a few minutes)');
  const target = 'x86_64-native-linuxapp-gcc';
  sh('make', ['-C', TREE, 'config', `T=${target}`, `O=${sdk}`]);
  const config = join(sdk, '.config');
  const keep = new Set(['CONFIG_RTE_LIBRTE_IGB_PMD', 'CONFIG_RTE_LIBRTE_PMD_NULL', 'CONFIG_RTE_LIBRTE_PMD_RING', 'CONFIG_RTE_LIBRTE_PMD_KNI']);
  const off = /^(CONFIG_RTE_LIBRTE_(?:[A-Z0-9_]+_PMD|PMD_[A-Z0-9_]+|(?:DPAA|DPAA2|OCTEONTX)_MEMPOOL|(?:DPAA|FSLMC|IFPGA)_BUS|PDUMP)|CONFIG_RTE_TEST_BBDEV)=y$/;
  const text = readFileSync(config, 'utf8')
    .split('\n')
    .map((l) => {
      if (l.startsWith('CONFIG_RTE_MACHINE=')) return 'CONFIG_RTE_MACHINE="default"';
      const name = l.split('=')[0];
      if (keep.has(name)) return `${name}=y`;
      return off.test(l) ? `${name}=n` : l;
    })
    .join('\n');
  writeFileSync(config, text);
  // gcc 10 and later default to -fno-common, which DPDK of that time predates.
  const flags = ['EXTRA_CFLAGS=-fcommon -Wno-error'];
  sh('make', ['-j2', '-C', sdk, 'CONFIG_RTE_KNI_KMOD=n', 'CONFIG_RTE_EAL_IGB_UIO=n', ...flags]);
  sh('make', ['-j2', '-C', join(TREE, 'examples/kni'), `RTE_SDK=${TREE}`, `RTE_TARGET=${relative(TREE, sdk)}`, `O=${join(sdk, 'kni-example')}`, ...flags]);
}

// igb_uio for this kernel, with the same header.
const uio = join(work, 'igb_uio');
cpSync(join(TREE, 'kernel/linux/igb_uio'), uio, { recursive: true });
writeFileSync(join(work, 'compat.h'), compat.header);
const includes = (base) => [`-include ${base}/alloc_balance_compat.h`, `-include ${base}/rte_config.h`, `-I${base}`, `-I${base}/common`, `-I${base}/linux`];
const inc = join(work, 'include');
mkdirSync(inc);
cpSync(join(TREE, 'config/rte_config.h'), join(inc, 'rte_config.h'));
cpSync(join(TREE, 'lib/librte_eal/common/include'), join(inc, 'common'), { recursive: true });
cpSync(join(TREE, 'lib/librte_eal/linux/eal/include'), join(inc, 'linux'), { recursive: true });
writeFileSync(
  join(inc, 'rte_build_config.h'),
  [
    'RTE_ARCH_64 1',
    'RTE_ARCH_X86 1',
    'RTE_ARCH_X86_64 1',
    'RTE_CACHE_LINE_SIZE 64',
    'RTE_EXEC_ENV_LINUX 1',
    'RTE_MAX_LCORE 128',
    'RTE_MAX_NUMA_NODES 32',
    'RTE_MAX_ETHPORTS 32',
    'RTE_LIBRTE_KNI 1',
    'RTE_KNI_KMOD_ETHTOOL 1',
  ]
    .map((d) => `#define ${d}\n`)
    .join(''),
);
writeFileSync(join(inc, 'alloc_balance_compat.h'), compat.header);
sh('make', ['-C', kernel.buildDir, `M=${uio}`, `MODULE_CFLAGS=${includes(inc).join(' ')}`, 'modules']);

// The repository the action compares: the module as released, then the fix.
const repo = join(work, 'repo');
mkdirSync(repo);
cpSync(KNI, join(repo, 'kni'), { recursive: true });
for (const f of ['meson.build', 'Makefile', 'ethtool/meson.build', 'ethtool/igb/meson.build', 'ethtool/ixgbe/meson.build'])
  rmSync(join(repo, 'kni', f), { force: true });
for (const [f, t] of Object.entries(compat.files)) writeFileSync(join(repo, 'kni', f), t);
cpSync(inc, join(repo, 'include'), { recursive: true });
writeFileSync(
  join(repo, 'kni', 'Kbuild'),
  [
    `ccflags-y := ${includes('$(src)/../include').join(' ')} -I$(src) -I$(src)/ethtool/ixgbe -I$(src)/ethtool/igb`,
    'obj-m := rte_kni.o',
    'rte_kni-y := $(patsubst $(src)/%.c,%.o,$(wildcard $(src)/*.c $(src)/ethtool/ixgbe/*.c $(src)/ethtool/igb/*.c))',
    '',
  ].join('\n'),
);
writeFileSync(
  join(repo, 'workload.sh'),
  [
    '#!/bin/sh',
    '# One cycle: the KNI example on the two emulated 82576 ports, bound to igb_uio; IOVA=PA, as KNI of v19.05 needs.',
    'set -e',
    'MODS=$1; UIO=$2; APP=$3',
    'grep -q "^uio " /proc/modules || insmod "$MODS/kernel/drivers/uio/uio.ko"',
    'grep -q "^igb_uio " /proc/modules || insmod "$UIO/igb_uio.ko"',
    'for a in 0000:00:03.0 0000:00:05.0; do',
    '  if [ ! -e /sys/bus/pci/drivers/igb_uio/$a ]; then echo igb_uio > /sys/bus/pci/devices/$a/driver_override; echo $a > /sys/bus/pci/drivers_probe; fi',
    'done',
    'echo 256 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages',
    'mkdir -p /dev/hugepages',
    'grep -q " /dev/hugepages " /proc/mounts || mount -t hugetlbfs nodev /dev/hugepages',
    'exec "$APP" -l 0-1 -n 4 --iova-mode=pa -- -p 0x3 -P --config="(0,0,1),(1,1,1)"',
    '',
  ].join('\n'),
);
chmodSync(join(repo, 'workload.sh'), 0o755);
const git = (...args) => sh('git', ['-C', repo, '-c', 'user.name=alloc-balance', '-c', 'user.email=alloc-balance@localhost', ...args]);
git('init', '-q');
git('add', '-A');
git('commit', '-qm', 'DPDK v19.05 KNI with its ethtool code, as released');
const misc = join(repo, 'kni/kni_misc.c');
const released = readFileSync(misc, 'utf8');
const anchor = '\tif (dev->net_dev) {\n\t\tunregister_netdev(dev->net_dev);';
if (!released.includes(anchor)) fail('kni_dev_remove() is not the one of v19.05: cannot apply the fix');
writeFileSync(misc, released.replace(anchor, `\tif (dev->lad_dev)\n\t\tfree_netdev(dev->lad_dev);\n\n${anchor}`));
git('commit', '-qam', 'kni: free the ethtool netdev (lad_dev) in kni_dev_remove');

log(`running the action on ${kernel.release}: base as released, PR with the fix, ${cycles} cycles`);
rmSync(out, { recursive: true, force: true });
const args = [
  join(ROOT, 'dist/cli.js'),
  'run',
  '--repo',
  repo,
  '--base',
  'HEAD~1',
  '--head',
  'HEAD',
  '--out',
  out,
  '--module-dir',
  'kni',
  '--vm-kernel',
  kernel.release,
  '--vm-nics',
  'igb:2',
  '--vm-memory',
  '2048',
  '--vm-folders',
  `${join(sdk, 'kni-example')}\n${uio}`,
  '--workload',
  `../workload.sh ${kernel.modulesDir} ${uio} ${app}`,
  '--ready-pattern',
  'is reading from port',
  '--ready-timeout',
  '180',
  '--stop-signal',
  'SIGINT',
  '--grace',
  '15',
  '--cycles',
  cycles,
  // The sweep would fail each of the igb code's many allocation sites in turn: hours under TCG.
  '--error-paths',
  'off',
];
let exit = 0;
try {
  execFileSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
} catch (e) {
  exit = e.status ?? 1;
}
const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
console.log(
  `\nDPDK ${readFileSync(join(TREE, 'VERSION'), 'utf8').trim()} rte_kni.ko with its ethtool code, ${kernel.release}, 2 × igb (QEMU), ${cycles} cycles; exit ${exit}, verdict ${report.comparison.verdict}`,
);
console.log('| side | pair | allocs | frees | leaked per cycle | sites |');
console.log('|---|---|---|---|---|---|');
for (const side of ['base', 'pr']) {
  for (const p of report[side]?.analysis?.pairs ?? []) {
    if (p.viaApi) continue;
    const sites = [...new Set((p.objects ?? []).filter((o) => o.inModule !== false).map((o) => o.location ?? o.caller))].join(', ');
    console.log(
      `| ${side === 'base' ? 'base (as released)' : 'PR (the fix)'} | ${p.alloc}:${p.free} | ${p.allocs} | ${p.frees} | ${p.leakedPerCycle} | ${sites} |`,
    );
  }
}
console.log(`\n${report.comparison.headline ?? ''}`);
console.log(`report: ${join(out, 'report.json')}`);
