// Base and PR in two VMs at once (the runner's figures given as a 4-core runner's, so that this
// 2-core machine takes the path a hosted runner takes): each side traces in its own instance and
// probe group, and the verdict is the one the sides give one after the other.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { VmTargetRunner } from '../../src/run/launcher.js';
import { measure } from '../../src/run/pipeline.js';
import { parseSettings } from '../../src/settings/settings.js';
import { prepareWorktrees } from '../../src/sources/worktrees.js';
import { ROOT, assertActionReady } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-e2e-at-once-');
let repo: FixtureRepo;

beforeAll(() => {
  findLabKernel();
  assertActionReady();
  repo = createFixtureRepo(join(ROOT, 'demo/kni-like'), join(work, 'repo'), ['fixed', 'leaky']);
});

describe('the sides at once', () => {
  test('two VMs at once: their own trace instances, the leak caught as one after the other', async () => {
    const outDir = join(work, 'out');
    const settings = parseSettings(
      (name) =>
        ({ workload: `${repo.app} -n 2`, 'vm-folders': dirname(repo.app), 'ready-pattern': '^ready', hold: '0.3', cycles: '3', 'output-dir': outDir })[name] ??
        '',
    );
    const trees = await prepareWorktrees(
      repo.dir,
      {
        event: 'workflow_dispatch',
        action: '',
        repository: 'local/kni_like',
        base: { ref: 'base', sha: repo.shas[0] },
        head: { ref: 'pr', sha: repo.shas[1] },
        prNumber: null,
        isFork: false,
        headRepo: 'local/kni_like',
      },
      join(work, 'trees'),
    );
    const lines: string[] = [];
    const lab = findLabKernel();
    const runner = new VmTargetRunner(lab, settings, { cliPath: join(ROOT, 'dist', 'cli.js'), nodePath: process.execPath, env: {} });
    try {
      const measured = await measure(
        settings,
        {
          base: { side: 'base', ref: 'base', sha: trees.baseSha, dir: trees.base },
          pr: { side: 'pr', ref: 'pr', sha: trees.headSha, dir: trees.head },
        },
        runner,
        { log: (l) => lines.push(l), group: (_n, fn) => fn(), machine: { cores: 4, freeMemoryMb: 8192 } },
        outDir,
      );
      expect(lines[0]).toBe('both sides at once: 4 cores and 8192 MiB free hold two VMs of 2 CPUs and 1024 MiB');
      expect(measured.base.status, JSON.stringify(measured.base)).toBe('ok');
      expect(measured.pr.status, JSON.stringify(measured.pr)).toBe('ok');
      expect(measured.comparison.verdict).toBe('fail');
      expect(measured.comparison.headline).toContain('igb_like_probe');
      const instance = (side: string) => /tracing set up in instances\/(\S+)/.exec(readFileSync(join(outDir, side, 'console.log'), 'utf8'))?.[1];
      expect(instance('base')).toMatch(/^alloc-balance-ab\w+b$/);
      expect(instance('pr')).toMatch(/^alloc-balance-ab\w+p$/);
      console.log(`sides at once: base run ${measured.base.timings.run} s, PR run ${measured.pr.timings.run} s`);
    } finally {
      await trees.dispose();
    }
  }, 600_000);
});
