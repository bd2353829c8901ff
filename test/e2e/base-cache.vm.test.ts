// The base side's result in the Actions cache, through the bundled action in a VM: the first run
// of a PR measures both sides and saves the base; a second run of the same PR restores the base,
// boots one VM (the PR's) and reaches the same verdict, naming the run that measured the base.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { startCacheServer, type CacheServer } from '../support/cache-server.js';
import { ROOT, assertActionReady, kniLikeInputs, runActionAsync } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = join(ROOT, 'demo/kni-like');

const work = useTempDir('ab-e2e-base-cache-');
let repo: FixtureRepo;
let server: CacheServer;

beforeAll(async () => {
  findLabKernel();
  assertActionReady();
  repo = createFixtureRepo(FIXTURE, join(work, 'repo'), ['fixed', 'leaky']);
  server = await startCacheServer(join(work, 'cache-service'));
});

afterAll(async () => {
  await server?.close();
});

async function run(name: string, runId: string) {
  const dir = join(work, name);
  const started = Date.now();
  const r = await runActionAsync({
    dir,
    workspace: repo.dir,
    inputs: kniLikeInputs(repo.app, join(dir, 'out'), { 'base-ref': repo.shas[0], 'head-ref': repo.shas[1] }),
    env: { ...server.env, GITHUB_RUN_ID: runId, GITHUB_SERVER_URL: 'https://github.com' },
  });
  return { ...r, seconds: (Date.now() - started) / 1000, out: join(dir, 'out') };
}

describe('the base cache, through the action in a VM', () => {
  test('the second run of the same PR restores the base, runs the PR side only and gives the same verdict', async () => {
    const first = await run('first', '101');
    expect(first.outputs.verdict, first.stdout).toBe('fail');
    expect(first.stdout).toMatch(/base cache: no entry alloc-balance-base-v1-\S+; the base side runs/);
    const saved = /base cache: saved (alloc-balance-base-v1-\S+)/.exec(first.stdout);
    expect(saved, first.stdout).not.toBeNull();
    const key = saved![1];
    expect(key).toContain(`-${findLabKernel().release}-${repo.shas[0].slice(0, 12)}-`);
    expect(first.report?.base.cached).toBeUndefined();
    expect(existsSync(join(first.out, 'base', 'console.log'))).toBe(true);

    const second = await run('second', '102');
    expect(second.outputs.verdict, second.stdout).toBe('fail');
    expect(second.stdout).toContain(`base cache: restored ${key}, measured by https://github.com/local/kni_like/actions/runs/101 on `);
    // No base VM: nothing of the base was built or run.
    expect(second.stdout).not.toContain('base: building in');
    expect(second.stdout).not.toContain('base: running 3 cycles');
    expect(existsSync(join(second.out, 'base'))).toBe(false);
    expect(second.report?.base.cached).toMatchObject({ key, runId: '101', runUrl: 'https://github.com/local/kni_like/actions/runs/101' });
    expect(second.summary).toContain('base from the Actions cache (measured by [run 101](https://github.com/local/kni_like/actions/runs/101))');
    // The same verdict from the same base analysis.
    expect(second.report?.comparison.headline).toBe(first.report?.comparison.headline);
    expect(second.report?.base.analysis).toEqual(first.report?.base.analysis);
    expect(second.report?.comparison.rows.map((r) => [r.pair, r.caller, r.status])).toEqual(
      first.report?.comparison.rows.map((r) => [r.pair, r.caller, r.status]),
    );
    expect(second.stdout).not.toMatch(/base cache: saved/);
    console.log(`base cache: first run ${first.seconds.toFixed(1)} s, second run (cached base) ${second.seconds.toFixed(1)} s`);
  }, 1_200_000);
});
