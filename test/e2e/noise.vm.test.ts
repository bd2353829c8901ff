// The kni_like fixture measured while another module allocates and frees netdevs and kmalloc
// buffers on the same kernel (test/fixtures/noise: ab_noise.ko plus dummy-link churn), started
// by the job's background command. Real Kbuild builds, a real kernel in QEMU, the bundled
// target runner in the guest, the analysis on the host: noise must never count against the
// module, and must never hide its leak.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { PairResult, SideRun } from '../../src/core/model.js';
import { compare } from '../../src/verdict/traces.js';
import { prLeakedPerCycle } from '../../src/core/compare.js';
import { buildModule } from '../../src/module-build/build-module.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { parseSettings, type Settings } from '../../src/settings/settings.js';
import { runSide } from '../../src/run/side.js';
import { sidePlan } from '../../src/run/side-plan.js';
import { VmTargetRunner } from '../../src/run/launcher.js';
import { decideVerdict } from '../../src/verdict/decide.js';
import type { TargetBackground } from '../../src/kernel-side/job.js';
import { buildKniLikeApp, writeKniLikeModule } from '../support/kni-like-variants.js';
import { ROOT, assertActionReady } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const NOISE = join(ROOT, 'test/fixtures/noise');
const PAIR = 'alloc_netdev_mqs:free_netdev';

const work = useTempDir('ab-noise-');
let runner: VmTargetRunner;
let settings: Settings;
let background: TargetBackground;
const fixed: SideRun[] = [];

beforeAll(async () => {
  const lab = findLabKernel(); // fails with the set-up command when the lab is missing
  assertActionReady();
  const noiseDir = join(work, 'noise');
  cpSync(NOISE, noiseDir, { recursive: true });
  const built = await buildModule({ moduleDir: noiseDir, kernelBuildDir: lab.buildDir });
  if (!built.ok) throw new Error(`ab_noise did not build: ${built.excerpt}`);
  background = {
    command: `sh ${join(noiseDir, 'noise.sh')} ${built.modules[0].path} 5`,
    cwd: noiseDir,
    env: {},
    settleSeconds: 1,
    stopSignal: 'SIGTERM',
    graceSeconds: 5,
  };
  const app = buildKniLikeApp(join(work, 'app'));
  const inputs: Record<string, string> = {
    target: 'vm',
    workload: `${app} -n 2`,
    'vm-folders': `${dirname(app)}\n${noiseDir}`,
    'ready-pattern': '^ready',
    hold: '0.3',
    cycles: '3',
    track: PAIR,
  };
  settings = parseSettings((name) => inputs[name] ?? '');
  runner = new VmTargetRunner(lab, settings, { cliPath: join(ROOT, 'dist', 'cli.js'), nodePath: process.execPath });
}, 120_000);

async function measureUnderNoise(variant: 'fixed' | 'leaky', name: string): Promise<SideRun> {
  // A fresh tree per run: a build that finds its .ko up to date produces none.
  const dir = join(work, 'trees', name);
  writeKniLikeModule(dir, variant);
  const outDir = join(work, 'out', name);
  return runSide(
    { side: variant === 'fixed' ? 'base' : 'pr', ref: variant, sha: '', dir },
    {
      plan: { ...sidePlan(settings), build: { moduleDir: '.', buildCommand: '', moduleArgs: '' }, background },
      runner,
      outDir,
      runId: `abnoise${name}`.replace(/[^A-Za-z0-9_]/g, '_'),
      log: () => {},
    },
  );
}

function pairOf(run: SideRun): PairResult {
  const p = run.analysis?.pairs.find((x) => `${x.alloc}:${x.free}` === PAIR);
  if (!p) throw new Error(`${run.ref}: no ${PAIR} in ${JSON.stringify(run, null, 1).slice(0, 3000)}`);
  return p;
}

function callersOf(p: PairResult): string {
  return `call sites: ${JSON.stringify(p.callers.map((c) => [c.caller, c.inModule, c.allocs, c.frees]))}`;
}

/** The noise really ran, and none of it was counted against the module. */
function expectNoiseOutsideModule(run: SideRun, outDir: string): void {
  const p = pairOf(run);
  const outside = p.callers.filter((c) => c.inModule === false);
  const noiseAllocs = outside.reduce((s, c) => s + c.allocs, 0);
  expect(noiseAllocs, JSON.stringify(p.callers.map((c) => [c.caller, c.inModule, c.allocs, c.frees]))).toBeGreaterThan(100);
  expect(p.allocs).toBe(p.module.allocs + noiseAllocs);
  expect(
    p.callers
      .filter((c) => c.inModule === true)
      .map((c) => c.caller.replace(/\+.*/, ''))
      .sort(),
  ).toEqual(['igb_like_probe', 'kni_like_ioctl_create']);
  // Every noise object was released inside the trace: the background stopped before it was read.
  expect(outside.reduce((s, c) => s + c.outstanding, 0)).toBe(0);
  const log = readFileSync(join(outDir, 'background.log'), 'utf8');
  expect(log).toMatch(/noise: ab_noise loaded/);
  expect(log).toMatch(/noise: stopped/);
}

describe('measurement under background allocator load (VM)', () => {
  test('kni_like fixed, three separate runs under noise: 0 leaked per cycle each time, pass', async () => {
    for (const n of [1, 2, 3]) {
      const run = await measureUnderNoise('fixed', `fixed${n}`);
      expect(run.status, `${run.reason}\n${run.logExcerpt}`).toBe('ok');
      expect(run.analysis!.complete, run.analysis!.problems.join('\n')).toBe(true);
      const p = pairOf(run);
      expect(p.module, callersOf(p)).toEqual({ allocs: 12, frees: 12, outstanding: 0 });
      expect(p.leakedPerCycle).toBe(0);
      expect(p.objects.filter((o) => o.inModule !== false)).toEqual([]);
      expectNoiseOutsideModule(run, join(work, 'out', `fixed${n}`));
      fixed.push(run);
    }
    for (let i = 1; i < fixed.length; i++) {
      for (const failOn of ['new-leak', 'any-leak'] as const) {
        const c = decideVerdict(fixed[i - 1], fixed[i], failOn, compare);
        expect(c.verdict, c.headline).toBe('pass');
      }
    }
  }, 170_000);

  test('kni_like leaky under the same noise: still exactly 2 leaked per cycle at igb_like_probe, fail', async () => {
    expect(fixed.length, 'needs the fixed runs of the test before').toBe(3);
    const run = await measureUnderNoise('leaky', 'leaky');
    expect(run.status, `${run.reason}\n${run.logExcerpt}`).toBe('ok');
    expect(run.analysis!.complete, run.analysis!.problems.join('\n')).toBe(true);
    const p = pairOf(run);
    expect(p.leakedPerCycle, callersOf(p)).toBe(2);
    expect(p.module).toEqual({ allocs: 12, frees: 6, outstanding: 6 });
    expect(p.moduleCycles!.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter)).toEqual([2, 4, 6]);
    const leaked = p.objects.filter((o) => o.inModule === true);
    expect(leaked).toHaveLength(6);
    expect(new Set(leaked.map((o) => o.caller.replace(/\+.*/, '')))).toEqual(new Set(['igb_like_probe']));
    expectNoiseOutsideModule(run, join(work, 'out', 'leaky'));
    const c = decideVerdict(fixed[0], run, 'new-leak', compare);
    expect(c.verdict, c.headline).toBe('fail');
    expect(prLeakedPerCycle(c)).toBe(2);
    expect(c.headline).toMatch(/PR leaks 2 objects\/cycle at igb_like_probe/);
    expect(existsSync(join(work, 'out', 'leaky', 'trace.txt'))).toBe(true);
  }, 90_000);
});
