// preset dpdk-kni on real DPDK: Debian 12's dpdk source package (upstream 22.11.x), through the
// bundled action in the vm target. 22.11 has no examples/kni: the workload is testpmd with two
// net_kni ports (portmask 0x3), each of which creates a KNI netdev through /dev/kni. The PR
// commit removes free_netdev(dev->net_dev) from kni_dev_remove, the release path.
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../src/core/model.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { debianDpdkTree } from '../support/debian-dpdk.js';
import { assertActionReady, git, kniPresetInputs, runAction, type ActionRun } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const MISC = 'kernel/linux/kni/kni_misc.c';
const RELEASE_FREE = '\t\tunregister_netdev(dev->net_dev);\n\t\tfree_netdev(dev->net_dev);\n';

const work = useTempDir('ab-dpdk-debian-');
let cacheRoot: string;
let repo: string;
const sha = { untouched: '', leaky: '' };

beforeAll(() => {
  findLabKernel();
  assertActionReady();
  const tree = debianDpdkTree();
  cacheRoot = join(work, 'cache');
  repo = join(work, 'dpdk');
  cpSync(tree, repo, { recursive: true });
  rmSync(join(repo, '.unpacked'));
  git(repo, ['init', '-q', '-b', 'main']);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', `DPDK ${readFileSync(join(repo, 'VERSION'), 'utf8').trim()} as Debian ships it`]);
  sha.untouched = git(repo, ['rev-parse', 'HEAD']);
  const misc = join(repo, MISC);
  const source = readFileSync(misc, 'utf8');
  if (!source.includes(RELEASE_FREE)) throw new Error(`${misc} no longer holds the free_netdev the leaky commit removes`);
  writeFileSync(misc, source.replace(RELEASE_FREE, '\t\tunregister_netdev(dev->net_dev);\n'));
  git(repo, ['commit', '-q', '-am', 'kni: kni_dev_remove no longer frees the netdev']);
  sha.leaky = git(repo, ['rev-parse', 'HEAD']);
}, 600_000);

function run(name: string, refs: { base: string; head: string }, inputs: Record<string, string> = {}): ActionRun {
  const dir = join(work, name);
  return runAction({
    dir,
    workspace: repo,
    inputs: kniPresetInputs(join(dir, 'out'), refs, inputs),
    env: { ALLOC_BALANCE_CACHE: cacheRoot },
    timeoutMs: 1_500_000,
  });
}

function lineOf(commit: string, needle: string): number {
  const lines = git(repo, ['show', `${commit}:${MISC}`]).split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`${MISC} no longer contains ${needle}`);
  return i + 1;
}

function netdevTotal(report: RunReport) {
  const row = report.comparison.rows.find((r) => r.pair === 'alloc_netdev_mqs:free_netdev' && r.total);
  if (!row) throw new Error(`no alloc_netdev_mqs:free_netdev total in ${JSON.stringify(report.comparison.rows)}`);
  return row;
}

function sideFile(name: string, side: string, file: string): string {
  return readFileSync(join(work, name, 'out', side, file), 'utf8');
}

describe("preset dpdk-kni on Debian's DPDK 22.11 in a VM", () => {
  test('PR drops free_netdev from kni_dev_remove: fail, 2 netdevs a cycle at the alloc_netdev in kni_ioctl_create', () => {
    const r = run('leak', { base: sha.untouched, head: sha.leaky });
    const report = r.report;
    expect(report, r.stdout).not.toBeNull();
    expect(report!.base.status, `${report!.base.reason}\n${report!.base.logExcerpt}`).toBe('ok');
    expect(report!.pr.status, `${report!.pr.reason}\n${report!.pr.logExcerpt}`).toBe('ok');
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.code).toBe(1);

    const netdev = netdevTotal(report!);
    expect(netdev.base).toMatchObject({ allocs: 6, frees: 6, leakedPerCycle: 0 });
    expect(netdev.pr).toMatchObject({ allocs: 6, frees: 0, leakedPerCycle: 2 });
    expect(netdev.pr?.growth).toEqual([2, 4, 6]);
    expect(netdev.base?.growth).toEqual([0, 0, 0]);
    const leaking = report!.comparison.rows.filter((x) => !x.total && x.inModule !== false && x.status === 'new-leak');
    expect(leaking, JSON.stringify(report!.comparison.rows, null, 1)).toHaveLength(1);
    expect(leaking[0].caller).toMatch(/^kni_ioctl(_create)?$/);
    expect(leaking[0].location).toBe(`${MISC}:${lineOf(sha.leaky, 'net_dev = alloc_netdev(')}`);
    expect(r.summary).toMatch(/❌ fail: PR leaks 2 objects\/cycle at kni_ioctl/);

    for (const side of ['base', 'pr']) {
      const job = JSON.parse(sideFile('leak', side, 'job.json'));
      expect(job.workload.command).toMatch(/dpdk-testpmd -l 0-1 -n 4 --no-pci --vdev=net_kni0 --vdev=net_kni1 -- --portmask=0x3/);
      const status = JSON.parse(sideFile('leak', side, 'status.json'));
      expect(status.notes.join('\n')).toMatch(/reserved 256 hugepages/);
      expect(status.notes.join('\n')).toMatch(/mounted hugetlbfs \(2 MiB pages\) at \/run\/alloc-balance\/hugepages-/);
      expect(status.restoreProblems).toEqual([]);
      // testpmd really started and stopped in every cycle.
      for (const cycle of [1, 2, 3]) {
        const log = sideFile('leak', side, `workload-${cycle}.log`);
        expect(log).toMatch(/Port 0: [0-9A-F:]{17}/);
        expect(log).toMatch(/Port 1: [0-9A-F:]{17}/);
        expect(log).toMatch(/Bye\.\.\./);
      }
    }
    // Built once, for a portable instruction set, and reused by the PR side.
    const entries = readdirSync(join(cacheRoot, 'dpdk'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^alloc-balance-dpdk-testpmd-22\.11\.\d+-[0-9a-f]{32}$/);
    expect(sideFile('leak', 'base', 'build.log')).toMatch(/-Dcpu_instruction_set=generic/);
    expect(sideFile('leak', 'pr', 'build.log')).not.toMatch(/dpdk-testpmd/);
  });

  test('both sides broken the same way (no hugepages): inconclusive, the PR not blamed', () => {
    const r = run('no-hugepages', { base: sha.untouched, head: sha.leaky }, { 'dpdk-hugepages': '0' });
    expect(r.outputs.verdict, r.stdout).toBe('inconclusive');
    const report = r.report!;
    expect(report.base.status).toBe('workload-not-ready');
    expect(report.pr.status).toBe('workload-not-ready');
    // EAL's own words, not only an exit code.
    expect(report.pr.reason).toMatch(/it said: EAL: FATAL: Cannot get hugepage information/);
    expect(report.comparison.headline).toMatch(/^⚠️ inconclusive: base and PR both failed the same way/);
    expect(report.comparison.headline).toMatch(/the environment, not the PR/);
  });
});
