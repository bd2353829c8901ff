// The canary through the bundled action (dist/index.js under Node 24) in the vm target: the
// shipped kmod/canary module is built for the VM's kernel and run before the sides; its planted leak
// of 1 netdev per cycle must be found, and the report must say so. Then the canary's own real
// trace, with the allocation events taken out (a kernel where the probes see nothing), must turn
// a verdict into inconclusive.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { analyzeTraces } from '../../src/core/analyze-traces.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { moduleSymbols } from '../../src/module-build/module-info.js';
import { buildModule } from '../../src/module-build/build-module.js';
import type { RunReport, SideRun } from '../../src/core/model.js';
import { applyCanary } from '../../src/verdict/decide.js';
import { CANARY_PAIR } from '../../src/core/canary-module.js';
import { findCanaryDir, judgeCanary } from '../../src/run/canary.js';
import { ROOT, assertActionReady, kniLikeInputs, runAction } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = join(ROOT, 'demo/kni-like');

const work = useTempDir('ab-canary-');
let repo: FixtureRepo;
let report: RunReport;
let outDir: string;

beforeAll(() => {
  findLabKernel();
  assertActionReady();
  repo = createFixtureRepo(FIXTURE, join(work, 'repo'), ['fixed', 'leaky']);
});

describe('the canary (input canary: true)', () => {
  test('is found next to the bundle and the sources', () => {
    expect(findCanaryDir(join(ROOT, 'dist'))).toBe(join(ROOT, 'kmod', 'canary'));
    expect(findCanaryDir(join(ROOT, 'src', 'run'))).toBe(join(ROOT, 'kmod', 'canary'));
    expect(() => findCanaryDir('/proc/self')).toThrow(/canary module is missing/);
  });

  test('through the action in a VM: caught at ab_canary_open, 1 per cycle; the verdict on the module stands', () => {
    const dir = join(work, 'action');
    outDir = join(dir, 'out');
    const r = runAction({
      dir,
      workspace: repo.dir,
      inputs: kniLikeInputs(repo.app, outDir, { canary: 'true', cycles: '2', 'base-ref': repo.shas[0], 'head-ref': repo.shas[1] }),
    });
    expect(r.report, r.stdout).not.toBeNull();
    report = r.report!;
    expect(report.canary, r.stdout).toMatchObject({ caught: true, site: 'ab_canary_open', leakedPerCycle: 1, cycles: 2, status: 'ok' });
    expect(report.canary!.location).toMatch(/^ab_canary\.c:\d+$/);
    const line = Number(report.canary!.location!.split(':')[1]);
    expect(readFileSync(join(findCanaryDir(), 'ab_canary.c'), 'utf8').split('\n')[line - 1]).toMatch(/alloc_netdev/);
    // The module under test is judged as without the canary: the leaky PR fails with 2/cycle.
    expect(r.outputs.verdict).toBe('fail');
    expect(r.outputs['leaked-per-cycle']).toBe('2');
    expect(r.summary).toMatch(/🐤 Canary caught: the planted leak of ab_canary \(1 netdev per cycle at ab_canary_open \(ab_canary\.c:\d+\)\)/);
    expect(r.stdout).toMatch(/canary: caught/);
    for (const f of ['trace.txt', 'status.json', 'sections.json', 'job.json']) expect(existsSync(join(outDir, 'canary', f)), f).toBe(true);
  }, 240_000);

  test('the same real canary trace without its allocation events: not caught, the verdict becomes inconclusive', async () => {
    expect(report, 'needs the action run of the test before').toBeDefined();
    const cdir = join(outDir, 'canary');
    const status = JSON.parse(readFileSync(join(cdir, 'status.json'), 'utf8'));
    const job = JSON.parse(readFileSync(join(cdir, 'job.json'), 'utf8'));
    expect(existsSync(job.module.path), 'the canary build is removed after the run').toBe(false);
    // The same source built again for the same kernel: the symbols the run's .ko had.
    const rebuilt = join(work, 'canary-rebuilt');
    cpSync(findCanaryDir(), rebuilt, { recursive: true });
    const built = await buildModule({ moduleDir: rebuilt, kernelBuildDir: findLabKernel().buildDir });
    expect(built.ok, built.excerpt).toBe(true);
    const map = () => moduleSymbols(built.modules[0].path).then((nm) => new ModuleMap('ab_canary', nm, status.sections));
    const trace = readFileSync(join(cdir, 'trace.txt'), 'utf8');
    const allocEvent = `${status.tracing.group}/a0`.split('/')[1];
    const blind = trace
      .split('\n')
      .filter((l) => !l.includes(` ${allocEvent}: (`) && !/alloc_netdev_mqs <-/.test(l))
      .join('\n');
    expect(blind.length).toBeLessThan(trace.length);
    writeFileSync(join(work, 'blind.txt'), blind);
    const analysis = await analyzeTraces({ traces: [join(work, 'blind.txt')], pairs: [CANARY_PAIR], moduleMap: await map() });
    const run: SideRun = { side: 'pr', ref: 'canary', sha: '', status: 'ok', timings: {}, analysis };
    const judged = judgeCanary(run, report.runner.kernel);
    expect(judged.caught).toBe(false);
    expect(judged.reason).toMatch(/ab_canary_open/);

    const real = await analyzeTraces({ traces: [join(cdir, 'trace.txt')], pairs: [CANARY_PAIR], moduleMap: await map() });
    const realJudged = judgeCanary({ ...run, analysis: real }, report.runner.kernel);
    expect(realJudged.caught, realJudged.reason).toBe(true);

    const c = applyCanary(report.comparison, judged, report.pr);
    expect(c.verdict).toBe('inconclusive');
    expect(c.headline).toMatch(
      /^⚠️ inconclusive: the canary's known leak was not detected, the detector does not work on this machine\/kernel \(6\.1\.0-\d+-amd64\)/,
    );
    expect(c.reasons[0]).toMatch(/^canary \(ab_canary, 2 cycles\): /);
    expect(applyCanary(report.comparison, realJudged, report.pr)).toBe(report.comparison);
    // A PR that failed on its own (did not build) keeps its fail: that needs no detector.
    const broken = { ...report.comparison, verdict: 'fail' as const };
    expect(applyCanary(broken, judged, { ...report.pr, status: 'build-failed' }).verdict).toBe('fail');
  });
});
