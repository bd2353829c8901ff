// `alloc-balance run` as the comment's "Reproduce locally" gives it: the bundled command line in a
// plain git clone of the demo's repository (base fixed, head leaky), the inputs as options, a real
// kernel in QEMU. It must reach the demo's verdict: fail, 2 netdevs a cycle at igb_like_probe.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import type { RunReport } from '../../src/core/model.js';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { cliBundle } from '../support/cli.js';
import { ROOT } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-cli-run-');
let repo: FixtureRepo;
let cli = '';

beforeAll(() => {
  findLabKernel();
  cli = cliBundle();
  repo = createFixtureRepo(join(ROOT, 'demo/kni-like'), join(work, 'origin'), ['fixed', 'leaky']);
}, 120_000);

test('run in a plain clone: the demo verdict, the table printed, report and comment written, exit 1', () => {
  const clone = join(work, 'clone');
  execFileSync('git', ['clone', '-q', repo.dir, clone]);
  const out = join(work, 'out');
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      '--base',
      repo.shas[0],
      '--head',
      repo.shas[1],
      '--workload',
      `${repo.app} -n 2`,
      '--vm-folders',
      dirname(repo.app),
      '--ready-pattern',
      '^ready',
      '--hold',
      '0.5',
      '--out',
      out,
    ],
    { cwd: clone, encoding: 'utf8', timeout: 900_000 },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(1);
  expect(r.stdout).toContain('❌ fail: PR leaks 2 objects/cycle at igb_like_probe (base 0)');
  expect(r.stdout).toMatch(/alloc_netdev_mqs:free_netdev +12 +12 +0 +12 +6 +2 +\+2 +❌ new leak/);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  expect(report.comparison.verdict).toBe('fail');
  expect(report.comparison.rows.find((row) => row.caller === 'igb_like_probe')?.pr?.leakedPerCycle).toBe(2);
  expect(readFileSync(join(out, 'comment.md'), 'utf8')).toContain('**❌ fail: PR leaks 2 objects/cycle at igb_like_probe (base 0)**');
  // The clone is left as it was: no worktree, no output inside it.
  expect(execFileSync('git', ['worktree', 'list'], { cwd: clone, encoding: 'utf8' }).trim().split('\n')).toHaveLength(1);
  expect(execFileSync('git', ['status', '--porcelain'], { cwd: clone, encoding: 'utf8' })).toBe('');
  expect(existsSync(join(clone, 'alloc-balance-out'))).toBe(false);
});
