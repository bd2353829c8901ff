// The README's `preset: dpdk-kni` step, run as written on real DPDK: Debian 12's dpdk source
// (upstream 22.11) as the repository, the step in the README's minimal workflow in place of its
// alloc-balance step, run by the runner emulation on a pull_request whose head drops
// free_netdev(dev->net_dev) from kni_dev_remove. The preset builds rte_kni.ko and testpmd (for a
// portable instruction set: target vm) on each side, in a VM with net_null ports. The suite's one
// real-DPDK file: testpmd's build takes both cores for minutes, so it runs after the rest
// (vitest.config.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../src/core/model.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { debianDpdkTree } from '../support/debian-dpdk.js';
import { type GitHubServer, startGitHubServer } from '../support/github-server.js';
import { createDpdkFixture, type DocumentedFixture, type KniRelease, mergeCommit } from '../support/runner/documented-fixture.js';
import { yamlBlocks } from '../support/runner/markdown-workflows.js';
import { RunnerEmulation } from '../support/runner/runner-emulation.js';
import { ROOT, assertActionReady } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const DPDK_BLOCK = 'README.md › Add it #2';
const REPO = 'nic-lab/kni-driver';
const DEBIAN_RELEASE: KniRelease = {
  file: 'kernel/linux/kni/kni_misc.c',
  balanced: '\t\tunregister_netdev(dev->net_dev);\n\t\tfree_netdev(dev->net_dev);\n',
  leaky: '\t\tunregister_netdev(dev->net_dev);\n',
};

const work = useTempDir('ab-documented-dpdk-');
let repo: DocumentedFixture;
let server: GitHubServer;

beforeAll(async () => {
  findLabKernel();
  assertActionReady();
  const tree = debianDpdkTree();
  repo = createDpdkFixture(work, 'dpdk', tree, DEBIAN_RELEASE);
  server = await startGitHubServer();
}, 600_000);
afterAll(async () => {
  if (server) {
    expect(server.violations).toEqual([]);
    await server.close();
  }
});

/** The README's minimal workflow with the preset step in place of its alloc-balance step: the block is written for that place. */
function presetWorkflow(): string {
  const blocks = yamlBlocks(ROOT, 'README.md');
  const minimal = blocks.find((b) => b.key === 'README.md › Add it');
  const preset = blocks.find((b) => b.key === DPDK_BLOCK);
  if (!minimal || !preset) throw new Error(`README.md lacks ${minimal ? DPDK_BLOCK : 'its minimal workflow'}`);
  const step = /^ {6}- uses: <owner>\/alloc-balance@v1\n(?: {8}.*\n)+/m;
  if (!step.test(minimal.text)) throw new Error("the README's minimal workflow has no alloc-balance step to put the preset step in place of");
  if (!/^ {6}- uses: <owner>\/alloc-balance@v1$/m.test(preset.text))
    throw new Error(`${DPDK_BLOCK} is no longer a step list at the minimal workflow's indentation`);
  return minimal.text.replace(step, preset.text);
}

describe("the README's preset: dpdk-kni step on real DPDK", () => {
  test(DPDK_BLOCK, async () => {
    const runner = new RunnerEmulation({
      work: join(work, 'runner'),
      repository: REPO,
      fixtureRepo: repo.dir,
      defaultBranchSha: repo.base,
      apiUrl: server.url,
    });
    const payload = JSON.parse(readFileSync(join(ROOT, 'test/data/events/pull_request.json'), 'utf8'));
    payload.action = 'opened';
    payload.pull_request.base.sha = repo.base;
    payload.pull_request.head.sha = repo.head;
    const run = await runner.run(presetWorkflow(), { name: 'pull_request', payload, sha: mergeCommit(repo, 42), ref: 'refs/pull/42/merge' });
    console.log(`the README's preset workflow on Debian's DPDK: ${Math.round(run.seconds)} s`);
    const [job] = run.jobs;
    expect(job.runnerEnvironment).toBe('github-hosted');
    const action = job.steps.find((s) => s.label === '<owner>/alloc-balance@v1');
    expect(action?.outputs.verdict, job.log).toBe('fail');
    expect(action?.outputs['leaked-per-cycle']).toBe('2');

    const comments = server.state.comments.get(`${REPO}#42`) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toMatch(/❌ fail: PR leaks 2 objects\/cycle at kni_ioctl/);
    const checks = server.state.checkRuns.filter((c) => c.head_sha === repo.head);
    expect(checks.map((c) => [c.name, c.conclusion])).toEqual([['alloc-balance', 'failure']]);
    expect(checks[0].annotations.some((a: any) => a.path === DEBIAN_RELEASE.file)).toBe(true);

    // The artifact: the report and each side's files, relative to alloc-balance-out/.
    expect(readdirSync(join(run.artifacts, 'alloc-balance'))).toEqual(expect.arrayContaining(['report.json', 'base', 'pr']));
    const report = JSON.parse(readFileSync(join(run.artifacts, 'alloc-balance/report.json'), 'utf8')) as RunReport;
    expect(report.runner.target).toBe('vm');
    const netdev = report.comparison.rows.find((r) => r.pair === 'alloc_netdev_mqs:free_netdev' && r.total);
    expect(netdev?.pr?.growth).toEqual([2, 4, 6]);
    expect(netdev?.base?.growth).toEqual([0, 0, 0]);
    const jobFile = JSON.parse(readFileSync(join(run.artifacts, 'alloc-balance/pr/job.json'), 'utf8'));
    expect(jobFile.workload.command).toMatch(/dpdk-testpmd .*--vdev=net_kni0 --vdev=net_kni1 -- --portmask=0x3/);
  }, 1_800_000);
});
