// Builds rte_kni.ko from the DPDK-shaped fixture tree both ways (meson and plain Kbuild)
// against the installed kernel headers, and the workload program both ways (meson, make).
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { planScript, runBuildPlan } from '../../src/module-build/build-plan.js';
import { detectDpdkTree, requireKni } from '../../src/presets/dpdk-tree.js';
import { planKniModuleBuild } from '../../src/presets/kni-module-build.js';
import { planUserspaceBuild } from '../../src/presets/userspace-build.js';
import { userspaceCache } from '../../src/presets/userspace-cache-key.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/dpdk-tree');
// The headers `lab setup` installed: whatever release Debian's archive serves today.
const KDIR = process.env.AB_KERNEL_BUILD_DIR ?? findLabKernel().buildDir;

/** The release modules built against kdir carry in their vermagic (UTS_RELEASE). */
function kernelRelease(kdir: string): string {
  const file = join(kdir, 'include/generated/utsrelease.h');
  if (!existsSync(file)) {
    throw new Error(`no kernel headers at ${kdir} (${file} is missing): apt-get install linux-headers-amd64, or set AB_KERNEL_BUILD_DIR`);
  }
  const m = /UTS_RELEASE\s+"([^"]+)"/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file} has no UTS_RELEASE`);
  return m[1];
}

function requireTools(...names: string[]): void {
  for (const n of names) {
    try {
      execFileSync('sh', ['-c', `command -v ${n}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${n} is not installed: apt-get install meson ninja-build make gcc kmod`);
    }
  }
}

function modinfo(field: string, ko: string): string {
  return execFileSync('modinfo', ['-F', field, ko], { encoding: 'utf8' }).trim();
}

const work = useTempDir('ab-kni-build-');
let treeDir: string;
let release: string;

beforeAll(() => {
  release = kernelRelease(KDIR);
  requireTools('meson', 'ninja', 'make', 'gcc', 'modinfo');
  // A copy: the builds must not write into the repository's fixture.
  treeDir = join(work, 'dpdk');
  cpSync(FIXTURE, treeDir, { recursive: true });
});

describe('rte_kni.ko from the fixture tree', () => {
  it.each(['meson', 'kbuild'] as const)("builds with %s, for the headers' kernel", async (way) => {
    const tree = requireKni(detectDpdkTree(treeDir));
    const outDir = join(work, `module-${way}`);
    const plan = planKniModuleBuild(tree, { kernelBuildDir: KDIR, outDir, buildSystem: way, mesonAvailable: true });
    expect(plan.kind).toBe(way);
    const started = Date.now();
    const r = await runBuildPlan(plan);
    if (!r.ok) throw new Error(`${r.reason}\n${r.log.slice(-3000)}`);
    console.log(`${way} module build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(existsSync(plan.output)).toBe(true);
    expect(modinfo('vermagic', plan.output).split(' ')[0]).toBe(release);
    expect(modinfo('name', plan.output)).toBe('rte_kni');
    const params = execFileSync('modinfo', ['-p', plan.output], { encoding: 'utf8' });
    expect(params).toMatch(/^kthread_mode:/m);
    expect(params).toMatch(/^carrier:/m);
    // The tree itself stays clean: no objects next to the sources.
    expect(existsSync(join(treeDir, 'kernel/linux/kni/kni_misc.o'))).toBe(false);
  });

  it('fails the Kbuild way when the generated rte_build_config.h is missing (the module needs RTE_CACHE_LINE_SIZE)', async () => {
    const tree = requireKni(detectDpdkTree(treeDir));
    const plan = planKniModuleBuild(tree, { kernelBuildDir: KDIR, outDir: join(work, 'module-broken'), buildSystem: 'kbuild', mesonAvailable: true });
    plan.steps = plan.steps.filter((s) => s.kind !== 'write');
    const r = await runBuildPlan(plan);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^make failed \(exit 2\): make -j\d+ -C /);
    expect(r.log).toMatch(/rte_build_config\.h: No such file or directory/);
    // The failed step's own words, for the report's excerpt.
    expect(r.failedOutput).toMatch(/rte_build_config\.h: No such file or directory/);
    expect(r.failedOutput).not.toMatch(/^\$ /m);
    expect(existsSync(plan.output)).toBe(false);
  });

  it('runs as one shell script too (for a build-command)', () => {
    const tree = requireKni(detectDpdkTree(treeDir));
    const plan = planKniModuleBuild(tree, { kernelBuildDir: KDIR, outDir: join(work, 'module-script'), buildSystem: 'kbuild', mesonAvailable: false });
    execFileSync('sh', ['-c', planScript(plan)], { stdio: 'pipe' });
    expect(modinfo('vermagic', plan.output).split(' ')[0]).toBe(release);
  });
});

it('refuses build dirs with white space, which Kbuild cannot build in', () => {
  const tree = requireKni(detectDpdkTree(FIXTURE));
  expect(() => planKniModuleBuild(tree, { kernelBuildDir: KDIR, outDir: '/tmp/my builds', buildSystem: 'kbuild', mesonAvailable: false })).toThrow(
    /"\/tmp\/my builds" contains white space/,
  );
});

describe('the workload program from the fixture tree', () => {
  it.each(['meson', 'make'] as const)('builds examples/kni with %s into the cache dir', async (way) => {
    const tree = detectDpdkTree(treeDir);
    const cache = userspaceCache(tree, 'kni-example', [way], join(work, 'cache'));
    const plan = planUserspaceBuild(tree, {
      app: 'kni-example',
      cacheDir: cache.dir,
      buildSystem: way,
      mesonAvailable: true,
      drivers: [],
      instructionSet: 'generic',
    });
    const r = await runBuildPlan(plan);
    if (!r.ok) throw new Error(`${r.reason}\n${r.log.slice(-3000)}`);
    expect(plan.program).toBe(join(cache.dir, 'bin/dpdk-kni'));
    // Without /dev/kni (no module here) the program says so and fails: it is the real program.
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(plan.program, ['-l', '0-1', '--', '-p', '0x3'], { stdio: 'pipe', encoding: 'utf8' });
    } catch (e) {
      failure = e as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toMatch(/cannot open \/dev\/kni/);
  });
});

describe('user-space cache key', () => {
  it('follows the files the user-space build reads, not the module or where the tree is', () => {
    const key = (dir: string) => userspaceCache(detectDpdkTree(dir), 'kni-example', ['auto'], '/cache').key;
    const copy = join(work, 'dpdk-copy');
    cpSync(FIXTURE, copy, { recursive: true });
    const k0 = key(copy);
    expect(key(FIXTURE)).toBe(k0);
    appendFileSync(join(copy, 'kernel/linux/kni/kni_misc.c'), '\n/* a module patch */\n');
    expect(key(copy)).toBe(k0);
    appendFileSync(join(copy, 'lib/kni/rte_kni_common.h'), '\n/* a library change */\n');
    expect(key(copy)).not.toBe(k0);
    expect(userspaceCache(detectDpdkTree(FIXTURE), 'kni-example', ['meson'], '/cache').key).not.toBe(k0);
  });
});
