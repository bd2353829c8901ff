// preset dpdk-kni through the bundled action (dist/index.js under Node 24), in the vm target, on
// a git repository holding the synthetic DPDK tree (test/fixtures/dpdk-tree) in two commits: the
// tree as it is (balanced) and the tree with kni_dev_remove() no longer freeing the netdev. The
// inputs are only what a user writes (preset, port mask, target, cycles, output dir) plus the
// defaults action.yml declares, which the runner passes for every input not given.
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../src/core/model.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { INPUT_NAMES } from '../../src/settings/settings.js';
import { ROOT, actionDefaults, assertActionReady, git, kniPresetInputs, runAction, type ActionRun } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = join(ROOT, 'test/fixtures/dpdk-tree');

/** The release path of the synthetic rte_kni: the leaky commit drops its free_netdev. */
const RELEASE_FREE = '\tunregister_netdev(net_dev);\n\tfree_netdev(net_dev);\n';

/** The line of `needle` (first occurrence) in a file of the repository at a commit. */
function lineOf(commit: string, file: string, needle: string): number {
  const lines = git(repo, ['show', `${commit}:${file}`]).split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`${file} no longer contains ${needle}`);
  return i + 1;
}

const work = useTempDir('ab-preset-e2e-');
let cacheRoot: string;
let repo: string;
const sha = { balanced: '', leaky: '' };

beforeAll(() => {
  findLabKernel(); // fails with the set-up command when the lab is missing
  assertActionReady();
  cacheRoot = join(work, 'cache');
  repo = join(work, 'dpdk');
  cpSync(FIXTURE, repo, { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, '.gitignore'), 'build/\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'kni: balanced']);
  sha.balanced = git(repo, ['rev-parse', 'HEAD']);
  const misc = join(repo, 'kernel/linux/kni/kni_misc.c');
  const source = readFileSync(misc, 'utf8');
  if (!source.includes(RELEASE_FREE)) throw new Error(`${misc} no longer holds the free_netdev the leaky commit removes`);
  writeFileSync(misc, source.replace(RELEASE_FREE, '\tunregister_netdev(net_dev);\n'));
  git(repo, ['commit', '-q', '-am', 'kni: forget free_netdev on release']);
  sha.leaky = git(repo, ['rev-parse', 'HEAD']);
});

function run(name: string, refs: { base: string; head: string }): ActionRun {
  const dir = join(work, name);
  return runAction({
    dir,
    workspace: repo,
    inputs: kniPresetInputs(join(dir, 'out'), refs),
    env: { ALLOC_BALANCE_CACHE: cacheRoot },
  });
}

function totalRow(report: RunReport, pair: string) {
  const row = report.comparison.rows.find((r) => r.pair === pair && r.total);
  if (!row) throw new Error(`no total row for ${pair} in ${JSON.stringify(report.comparison.rows)}`);
  return row;
}

/** The lines of the job summary's Mermaid chart for one pair. */
function chartOf(summary: string, pair: string): string[] {
  const block = [...summary.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes(`title "${pair}: base (blue) vs PR (orange)"`));
  if (!block) throw new Error(`no chart for ${pair} in the summary:\n${summary}`);
  return block.split('\n').map((l) => l.trim());
}

describe('action.yml and the preset inputs', () => {
  test('every input the action parses is declared in action.yml, the preset ones with an empty or a working default', () => {
    const defaults = actionDefaults();
    for (const name of INPUT_NAMES) expect(defaults, `action.yml lacks input ${name}`).toHaveProperty(name);
    // A non-empty `track` default would override the preset's KNI pairs on every real runner.
    expect(defaults.track).toBe('');
    expect(defaults['dpdk-portmask']).toBe('');
    expect(defaults['dpdk-build']).toBe('auto');
  });
});

describe('preset dpdk-kni through the action in a VM', () => {
  test('base balanced, PR forgets free_netdev: fail, 2 netdevs per cycle leaked at the alloc_netdev call site in kni_misc.c', () => {
    const r = run('leak', { base: sha.balanced, head: sha.leaky });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.code).toBe(1);
    const report = r.report!;
    expect(report.base.status, report.base.reason).toBe('ok');
    expect(report.pr.status, report.pr.reason).toBe('ok');
    expect(report.pairs).toEqual(['alloc_netdev_mqs:free_netdev', 'kthread_create_on_node:kthread_stop']);

    const netdev = totalRow(report, 'alloc_netdev_mqs:free_netdev');
    expect(netdev.base?.leakedPerCycle).toBe(0);
    expect(netdev.pr?.leakedPerCycle).toBe(2);
    expect(netdev.pr?.growth).toEqual([2, 4, 6]);
    expect(netdev.base?.growth).toEqual([0, 0, 0]);
    const kthread = totalRow(report, 'kthread_create_on_node:kthread_stop');
    expect(kthread.pr?.leakedPerCycle).toBe(0);
    expect(kthread.base?.leakedPerCycle).toBe(0);
    expect(r.outputs['leaked-per-cycle']).toBe('2');

    // Rows outside the module (a workqueue's kthread, say) are context, never the verdict.
    const leaking = report.comparison.rows.filter((x) => !x.total && x.inModule !== false && x.status === 'new-leak');
    expect(leaking, JSON.stringify(leaking, null, 1)).toHaveLength(1);
    // gcc -O2 inlines kni_ioctl_create into kni_ioctl: the call site is the function that holds
    // the call, and the line is the alloc_netdev call itself (the innermost frame of the inline
    // chain that is in a source file, not a header).
    const misc = 'kernel/linux/kni/kni_misc.c';
    const site = leaking[0];
    expect(site.caller).toMatch(/^kni_ioctl(_create)?$/);
    expect(site.location).toBe(`${misc}:${lineOf(sha.leaky, misc, 'net_dev = alloc_netdev(')}`);
    expect(site.pr).toMatchObject({ allocs: 6, frees: 0, leakedPerCycle: 2 });
    expect(site.base).toMatchObject({ allocs: 6, frees: 6, leakedPerCycle: 0 });
    expect(r.summary).toMatch(/❌ fail: PR leaks 2 objects\/cycle at kni_ioctl/);
    expect(r.stdout).toMatch(/::error::❌ fail/);

    // The per-cycle chart: base flat at 0, PR growing by 2 a cycle.
    const chart = chartOf(r.summary, 'alloc_netdev_mqs:free_netdev');
    expect(chart).toContain('xychart-beta');
    expect(chart).toContain('x-axis "cycle" [1, 2, 3]');
    expect(chart.filter((l) => l.startsWith('line ['))).toEqual(['line [0, 0, 0]', 'line [2, 4, 6]']);

    // Both VMs reserved the preset's hugepages (2 ports: 256) and gave them back.
    for (const side of ['base', 'pr']) {
      const job = JSON.parse(readFileSync(join(work, 'leak', 'out', side, 'job.json'), 'utf8'));
      expect(job.module.name).toBe('rte_kni');
      expect(job.module.args).toBe('kthread_mode=single carrier=off');
      expect(job.hugepages).toBe(256);
      expect(job.workload.readyCommand).toBe('[ -e /sys/class/net/vEth0 ] && [ -e /sys/class/net/vEth1 ]');
      expect(job.workload.stopSignal).toBe('SIGINT');
      expect(job.workload.command).toMatch(/dpdk-kni -l 0-1 -n 4 --vdev=net_null0 --vdev=net_null1 -- -p 0x3 -P --config='\(0,0,1\),\(1,0,1\)'$/);
      const status = JSON.parse(readFileSync(join(work, 'leak', 'out', side, 'status.json'), 'utf8'));
      expect(status.notes.join('\n')).toMatch(/reserved 256 hugepages/);
      expect(status.restoreProblems).toEqual([]);
      const log = readFileSync(join(work, 'leak', 'out', side, 'workload-1.log'), 'utf8');
      expect(log).toContain('KNI: created vEth0');
      expect(log).toContain('KNI: created vEth1');
    }

    // The user-space program was built once, into the cache, and the PR side reused it.
    const entries = readdirSync(join(cacheRoot, 'dpdk'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^alloc-balance-dpdk-kni-example-22\.07\.0-[0-9a-f]{32}$/);
    expect(existsSync(join(cacheRoot, 'dpdk', entries[0], 'bin', 'dpdk-kni'))).toBe(true);
    const buildLogs = ['base', 'pr'].map((side) => readFileSync(join(work, 'leak', 'out', side, 'build.log'), 'utf8'));
    expect(buildLogs[0]).toMatch(/examples\/kni|dpdk-kni/);
    expect(buildLogs[1]).not.toMatch(/examples\/kni|dpdk-kni/);
  });

  test('base leaky, PR fixes it: pass, with the base leak shown and the cached program reused', () => {
    const cached = readdirSync(join(cacheRoot, 'dpdk'));
    const r = run('fix', { base: sha.leaky, head: sha.balanced });
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    expect(r.code).toBe(0);
    const netdev = totalRow(r.report!, 'alloc_netdev_mqs:free_netdev');
    expect(netdev.base?.leakedPerCycle).toBe(2);
    expect(netdev.pr?.leakedPerCycle).toBe(0);
    expect(netdev.pr?.allocs).toBe(6);
    expect(netdev.pr?.frees).toBe(6);
    expect(r.outputs['leaked-per-cycle']).toBe('0');
    expect(r.summary).toMatch(/✅ pass/);
    const chart = chartOf(r.summary, 'alloc_netdev_mqs:free_netdev');
    expect(chart.filter((l) => l.startsWith('line ['))).toEqual(['line [2, 4, 6]', 'line [0, 0, 0]']);
    expect(readdirSync(join(cacheRoot, 'dpdk'))).toEqual(cached);
    for (const side of ['base', 'pr']) {
      expect(readFileSync(join(work, 'fix', 'out', side, 'build.log'), 'utf8')).not.toMatch(/examples\/kni|dpdk-kni/);
    }
  });
});
