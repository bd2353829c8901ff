import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createShapesRepo, SHAPES_WORKLOAD } from '../../src/demo/shapes-repo.js';
import { releaseLine } from '../../src/lab/kernel-spec.js';
import { findLabKernel, LAB_DIR_ENV } from '../../src/lab/lab-kernel.js';
import { ROOT, assertActionReady, runAction } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const KERNELS = ['5.10', '6.12'];
const work = useTempDir('ab-kernels-');
let repo: string;
let shas: string[];

beforeAll(() => {
  for (const k of KERNELS) findLabKernel(k);
  assertActionReady();
  repo = join(work, 'repo');
  shas = createShapesRepo(join(ROOT, 'demo/leak-shapes'), repo, ['-DKFREE_RCU', '-DKFREE_RCU -DLEAK_ITEM']);
});

describe.each(KERNELS)('Linux %s', (kernel) => {
  test('base frees with kfree_rcu and balances; the PR forgets kmem_cache_free: fail at shape_take_item, 1/cycle', () => {
    const dir = join(work, kernel);
    const lab = process.env[LAB_DIR_ENV];
    const r = runAction({
      dir,
      workspace: repo,
      env: lab ? { [LAB_DIR_ENV]: lab } : {},
      inputs: {
        target: 'vm',
        'vm-kernel': kernel,
        workload: SHAPES_WORKLOAD,
        'ready-pattern': '^ready',
        hold: '0.3',
        cycles: '3',
        'output-dir': join(dir, 'out'),
        'github-token': '',
        'base-ref': shas[0],
        'head-ref': shas[1],
      },
    });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const report = r.report!;
    expect(releaseLine(report.runner.kernel)).toBe(kernel);
    // The one more: with items leaked the variant leaves its cache undestroyed (the kmem_cache_create row).
    expect(report.comparison.headline).toBe('❌ fail: PR leaks 1 object/cycle at shape_take_item (base 0) (+1 more)');
    expect(
      report.comparison.reasons.some((x) => /PR leaves \d+ objects after unload at leak_shapes_init/.test(x)),
      report.comparison.reasons.join('\n'),
    ).toBe(true);
    expect(report.pairs).toEqual(['kmalloc:kfree']);
    for (const side of [report.base, report.pr]) {
      expect(side.status).toBe('ok');
      expect(side.analysis?.lostEvents).toBe(0);
    }
    // The traced pair, and the memory kernel APIs allocated for the module (the apiwatch helper, built for this kernel).
    expect(report.base.analysis?.pairs.filter((p) => !p.viaApi).map((p) => p.leakedPerCycle)).toEqual([0]);
    expect(report.base.analysis?.pairs.filter((p) => p.viaApi).length).toBeGreaterThan(0);
    for (const p of report.base.analysis?.pairs ?? []) expect(p.leakedPerCycle, `${p.alloc}:${p.free}`).toBe(0);
    expect(report.comparison.rows.find((x) => x.caller === 'shape_take_item')?.pr?.growth).toEqual([1, 2, 3]);
  });
});
