// The action itself - the bundled dist/index.js and dist/post.js under Node 24, as GitHub runs
// them - in the vm target against the kni_like fixture, whose git history holds the leaky and the
// fixed module. Real builds with Kbuild, a real kernel in QEMU, real traces.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import type { RunReport } from '../../src/core/model.js';
import { hostAccel } from '../../src/lab/kvm-host.js';
import { accelText } from '../../src/report/labels.js';
import { ROOT, assertActionReady, kniLikeInputs, runAction } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = join(ROOT, 'demo/kni-like');

const work = useTempDir('ab-e2e-');
let repo: FixtureRepo;
const sha: Record<'leaky' | 'fixed' | 'broken' | 'moved' | 'oops', string> = { leaky: '', fixed: '', broken: '', moved: '', oops: '' };

beforeAll(() => {
  findLabKernel(); // fails with the set-up command when the lab is missing
  assertActionReady();
  repo = createFixtureRepo(FIXTURE, join(work, 'repo'), ['leaky', 'fixed', 'broken', 'moved', 'oops']);
  [sha.leaky, sha.fixed, sha.broken, sha.moved, sha.oops] = repo.shas;
});

function run(name: string, inputs: Record<string, string>, step: 'index' | 'post' = 'index', stateFile?: string) {
  const dir = join(work, name);
  return runAction({ dir, workspace: repo.dir, inputs: step === 'post' ? inputs : kniLikeInputs(repo.app, join(dir, 'out'), inputs), step, stateFile });
}

function moduleRow(report: RunReport) {
  const row = report.comparison.rows.find((r) => r.pair === 'alloc_netdev_mqs:free_netdev' && r.total);
  if (!row) throw new Error(`no total row in ${JSON.stringify(report.comparison.rows)}`);
  return row;
}

describe('the action in a VM against the kni_like fixture', () => {
  test('base leaky, PR fixed: pass, 2 leaked per cycle on base and 0 on the PR; the post step removes the worktrees', () => {
    const r = run('fix', { 'base-ref': sha.leaky, 'head-ref': sha.fixed });
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    expect(r.code).toBe(0);
    const row = moduleRow(r.report!);
    expect(row.base?.leakedPerCycle).toBe(2);
    expect(row.base?.growth).toEqual([2, 4, 6]);
    expect(row.pr?.leakedPerCycle).toBe(0);
    expect(row.pr?.allocs).toBe(12);
    expect(row.pr?.frees).toBe(12);
    expect(r.outputs['leaked-per-cycle']).toBe('0');
    expect(r.outputs.report).toBe(join(work, 'fix', 'out', 'report.json'));
    expect(r.summary).toMatch(/✅ pass/);
    expect(r.summary).toContain('| ✅ fixed | **alloc_netdev_mqs:free_netdev** (module) | 12/6 | 12/12 | 2 → 0 | -2 |');

    // This machine's accelerator, as the action (root: /dev/kvm opens if it exists, so no udev change) chose it.
    const accel = hostAccel(false);
    expect(r.report?.base.accel).toEqual(accel);
    expect(r.report?.pr.accel).toEqual(accel);
    expect(r.stdout).toContain(`base: running 3 cycles on a VM running ${r.report?.runner.kernel} under ${accelText(accel)}`);
    expect(r.summary).toContain(`target vm · ${accelText(accel)} · runner e2e`);

    const worktrees = spawnSync('git', ['worktree', 'list', '--porcelain'], { cwd: repo.dir, encoding: 'utf8' }).stdout;
    expect(worktrees.match(/^worktree /gm)).toHaveLength(1);
    const post = run('fix-post', {}, 'post', r.stateFile);
    expect(post.code, post.stdout).toBe(0);
  });

  test('base fixed, PR leaky: fail, the leak attributed to the lad_dev call site', () => {
    const r = run('leak', { 'base-ref': sha.fixed, 'head-ref': sha.leaky });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.code).toBe(1);
    expect(r.outputs['leaked-per-cycle']).toBe('2');
    const leaking = r.report!.comparison.rows.filter((x) => !x.total && x.status === 'new-leak');
    expect(leaking.map((x) => x.caller)).toEqual(['igb_like_probe']);
    expect(leaking[0].location).toMatch(/^kni_like\.c:\d+$/);
    const balanced = r.report!.comparison.rows.find((x) => x.caller === 'kni_like_ioctl_create');
    expect(balanced?.status).toBe('balanced');
    expect(r.summary).toMatch(/❌ fail: PR leaks 2 objects\/cycle at igb_like_probe/);
    expect(r.stdout).toMatch(/::error::❌ fail/);
  });

  test('a PR that does not build: fail, naming the build and showing the compiler error', () => {
    const r = run('broken', { 'base-ref': sha.fixed, 'head-ref': sha.broken, cycles: '1' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.pr.status).toBe('build-failed');
    expect(r.report!.comparison.headline).toMatch(/the module did not build/);
    expect(r.summary).toMatch(/undeclared_thing/);
  });

  test('base leaky, PR moves the leak to another call site at the same rate: fail, naming the new site', () => {
    const r = run('moved', { 'base-ref': sha.leaky, 'head-ref': sha.moved });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const total = moduleRow(r.report!);
    expect(total.base?.leakedPerCycle).toBe(2);
    expect(total.pr?.leakedPerCycle).toBe(2);
    expect(total.status).toBe('same-leak');
    // The netdev pair's call sites (kni_like_ioctl_create also calls register_netdev, a row of its own).
    const byCaller = Object.fromEntries(
      r.report!.comparison.rows.filter((x) => !x.total && x.pair === 'alloc_netdev_mqs:free_netdev').map((x) => [x.caller, x.status]),
    );
    expect(byCaller).toMatchObject({ igb_like_probe: 'fixed', kni_like_ioctl_create: 'new-leak' });
    // The one more: what register_netdev allocated for the leaked netdev goes with it (freed by free_netdev).
    expect(r.report!.comparison.headline).toBe('❌ fail: PR leaks 2 objects/cycle at kni_like_ioctl_create (base 0) (+1 more)');
    expect(r.report!.comparison.reasons.find((x) => x.startsWith('register_netdev:'))).toMatch(
      /PR leaks \d+ objects\/cycle at kni_like_ioctl_create \(base 0\)/,
    );
  });

  test('a PR whose module oopses on load: fail, with the oops from the kernel log', () => {
    const r = run('oops', { 'base-ref': sha.fixed, 'head-ref': sha.oops, cycles: '1' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.base.status).toBe('ok');
    expect(['kernel-splat', 'load-failed']).toContain(r.report!.pr.status);
    expect(r.summary).toMatch(/NULL pointer dereference|Oops/);
  });

  test('a workload that exits at once on both sides: inconclusive, the environment and not the PR', () => {
    const r = run('exits', { 'base-ref': sha.fixed, 'head-ref': sha.fixed, workload: `${repo.app} --exit-now`, cycles: '1', 'ready-timeout': '10' });
    expect(r.outputs.verdict, r.stdout).toBe('inconclusive');
    expect(r.code).toBe(1);
    expect(r.report!.base.status).toBe('workload-not-ready');
    expect(r.report!.pr.status).toBe('workload-not-ready');
    expect(r.report!.comparison.headline).toBe(
      '⚠️ inconclusive: base and PR both failed the same way (the workload never became ready): the environment, not the PR',
    );
  });
});
