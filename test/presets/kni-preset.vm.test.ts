// Preset dpdk-kni end to end on a real kernel: the fixture tree's rte_kni.ko and KNI example are
// built by the preset's plans, then the kernel-side runner loads the module in a lab VM and runs
// the preset's workload (port mask 0x3: vEth0 and vEth1) for 3 cycles; the trace must balance.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, test } from 'vitest';
import { moduleSymbols } from '../../src/module-build/module-info.js';
import { analyzeTraces } from '../../src/core/analyze-traces.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { findLabKernel, type LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { runInGuest } from '../../src/lab/run-in-guest.js';
import { runBuildPlan } from '../../src/module-build/build-plan.js';
import { dpdkKniPreset } from '../../src/presets/dpdk-kni.js';
import { parseDpdkKniOptions } from '../../src/presets/kni-options.js';
import type { TargetJob } from '../../src/kernel-side/job.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/dpdk-tree');
const ROOT = resolve(import.meta.dirname, '../..');

let kernel: LabManifestEntry;
const work = useTempDir('ab-kni-vm-');

beforeAll(() => {
  kernel = findLabKernel();
});

describe('preset dpdk-kni in a VM', () => {
  test('mask 0x3: two vEth interfaces per cycle, 3 cycles, netdevs and kthreads balanced', async () => {
    const treeDir = join(work, 'dpdk');
    cpSync(FIXTURE, treeDir, { recursive: true });
    const options = parseDpdkKniOptions((name) => ({ 'dpdk-portmask': '0x3', 'dpdk-build': 'kbuild' })[name] ?? '', 'vm');
    const preset = dpdkKniPreset(treeDir, options, kernel.buildDir, {
      moduleOutDir: join(work, 'module'),
      cacheRoot: join(work, 'cache'),
      cpus: 2,
      holdSeconds: 1,
      readyTimeoutSeconds: 60,
    });

    for (const plan of [preset.moduleBuild, preset.userspaceBuild]) {
      const r = await runBuildPlan(plan);
      if (!r.ok) throw new Error(`${plan.description}: ${r.reason}\n${r.log.slice(-3000)}`);
      expect(existsSync(plan.output)).toBe(true);
    }

    const cli = join(work, 'cli.mjs');
    await build({
      entryPoints: [join(ROOT, 'src/cli.ts')],
      outfile: cli,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      banner: { js: "import { createRequire as __abCreateRequire } from 'node:module';\nconst require = __abCreateRequire(import.meta.url);" },
    });

    const outDir = join(work, 'out');
    const runDir = join(outDir, 'run');
    const job: TargetJob = {
      module: { path: preset.moduleBuild.output, name: preset.moduleName, args: preset.moduleArgs },
      workload: { ...preset.workload, cwd: work, env: preset.workload.env },
      cycles: 3,
      track: preset.track,
      traceBufferKb: 4096,
      stacks: false,
      outDir: runDir,
      runId: 'knipreset',
      // The synthetic example needs no hugepages; the preset's count is checked below.
      hugepages: 0,
      timeoutSeconds: 240,
    };
    const jobFile = join(outDir, 'job.json');
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(jobFile, JSON.stringify(job, null, 2));

    const result = await runInGuest(
      kernel,
      {
        argv: ['/bin/sh', '-c', `node ${cli} target run --job ${jobFile} > ${outDir}/target.stdout 2> ${outDir}/target.stderr; echo $? > ${outDir}/target.rc`],
        cwd: work,
        outDir,
        shares: [work],
        timeoutSeconds: 300,
      },
      { cpus: 2, memoryMb: 1024 },
    );
    const stderr = existsSync(join(outDir, 'target.stderr')) ? readFileSync(join(outDir, 'target.stderr'), 'utf8') : '';
    expect(result.kernelPanic, result.panicExcerpt).toBe(false);
    expect(result.exitCode, result.console.slice(-3000)).toBe(0);
    expect(readFileSync(join(outDir, 'target.rc'), 'utf8').trim(), stderr).toBe('0');

    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
    expect(status.status, `${status.reason}\n${status.logExcerpt ?? ''}`).toBe('ok');
    expect(status.timings.cycles).toHaveLength(3);
    expect(status.restoreProblems).toEqual([]);
    const cycle1 = readFileSync(join(runDir, 'workload-1.log'), 'utf8');
    expect(cycle1).toContain('KNI: created vEth0');
    expect(cycle1).toContain('KNI: created vEth1');
    expect(cycle1).toContain('KNI: released vEth1');

    // Attribute call sites to rte_kni with the section addresses the run recorded.
    const moduleMap = new ModuleMap(preset.moduleName, await moduleSymbols(preset.moduleBuild.output), status.sections);
    const analysis = await analyzeTraces({ traces: [join(runDir, 'trace.txt')], pairs: preset.track, moduleMap });
    expect(analysis.complete, analysis.problems.join('; ')).toBe(true);
    expect(analysis.cycles).toBe(3);
    const netdev = analysis.pairs.find((p) => p.alloc === 'alloc_netdev_mqs')!;
    const kthread = analysis.pairs.find((p) => p.alloc === 'kthread_create_on_node')!;
    // Two netdevs per cycle, all released; one kthread per cycle (kthread_mode=single), stopped.
    expect(netdev.module.allocs).toBe(6);
    expect(netdev.module.frees).toBe(6);
    expect(netdev.module.outstanding).toBe(0);
    expect(kthread.module.allocs).toBe(3);
    expect(kthread.module.outstanding).toBe(0);
    expect(netdev.leakedPerCycle).toBe(0);
    expect(kthread.leakedPerCycle).toBe(0);
    // kni_ioctl_create is inlined into kni_ioctl by gcc -O2: the call site is whichever holds it.
    const sites = netdev.callers.filter((c) => c.inModule === true && c.allocs > 0);
    expect(sites.length).toBeGreaterThan(0);
    for (const c of sites) expect(c.caller).toMatch(/^kni_ioctl/);
    expect(preset.hugepages).toBe(256);
  });
});
