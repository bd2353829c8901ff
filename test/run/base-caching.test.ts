// The base side's result in the Actions cache, against a cache service on 127.0.0.1 that speaks
// the routes @actions/cache uses: a clean base is saved with the run that measured it and restored
// on the next run; a failed, cancelled or incomplete base is never saved; measure() skips a cached base.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { actionsDirCache } from '../../src/github/dir-cache.js';
import { BaseCaching, foldersDigest, whyNotCacheable } from '../../src/run/base-caching.js';
import { measure } from '../../src/run/pipeline.js';
import type { TargetRunner } from '../../src/run/launcher.js';
import { parseSettings } from '../../src/settings/settings.js';
import type { SideRun } from '../../src/core/model.js';
import { useCacheService } from '../support/cache-server.js';
import { BASE_SHA, HEAD_SHA, recordedReport } from '../support/recorded-report.js';
import { writeFileSync, symlinkSync } from 'node:fs';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-base-cache-');
const cache = useCacheService(work);

const RUN_1 = { runId: '14120380000', runUrl: 'https://github.com/nic-lab/kni-driver/actions/runs/14120380000' };
const RUN_2 = { runId: '14120390000', runUrl: 'https://github.com/nic-lab/kni-driver/actions/runs/14120390000' };

function caching(key: string, run: typeof RUN_1, lines: string[]): BaseCaching {
  return new BaseCaching(actionsDirCache(), key, join(process.env.RUNNER_TEMP as string, 'alloc-balance-base-cache'), run, (l) => lines.push(l));
}

/** A target that must not be used: a test where no side reaches the target. */
const NO_TARGET: TargetRunner = {
  kernel: { release: '6.1.0-57-amd64', buildDir: '/nonexistent' },
  describe: () => 'no target',
  run: () => {
    throw new Error('the target was asked to run a side');
  },
};

describe('BaseCaching', () => {
  test('a clean base is saved with the run that measured it; the next run restores it as it was', async () => {
    const { base } = await recordedReport({ base: { artifacts: ['/home/runner/work/_temp/out/base/trace.txt'] } });
    const key = 'alloc-balance-base-v1-6.1.0-57-amd64-9f2c1e0b7d4a-000000000000000000000001';
    const lines: string[] = [];
    const run1 = caching(key, RUN_1, lines);
    expect(await run1.restore(base)).toBeNull();
    expect(lines.pop()).toBe(`base cache: no entry ${key}; the base side runs`);
    await run1.save(base);
    expect(lines.pop()).toBe(`base cache: saved ${key}`);
    expect(cache.server().entries.find((e) => e.key === key)?.finalized).toBe(true);

    // Another run of the same PR, whose base branch has another name here.
    const restored = await caching(key, RUN_2, lines).restore({ ref: 'main', sha: BASE_SHA });
    expect(lines.pop()).toMatch(new RegExp(`^base cache: restored ${key}, measured by ${RUN_1.runUrl} on \\d{4}-\\d\\d-\\d\\dT.*; only the PR side runs$`));
    expect(restored).not.toBeNull();
    const { cached, artifacts, ref, ...rest } = restored as SideRun;
    expect(cached).toMatchObject({ key, runId: RUN_1.runId, runUrl: RUN_1.runUrl });
    expect(ref).toBe('main');
    // The raw files stayed on the runner that made them.
    expect(artifacts).toBeUndefined();
    const { artifacts: _a, ref: _r, ...original } = base;
    expect(rest).toEqual(original);
  });

  test.each<[string, Partial<SideRun>, string]>([
    ['failed', { status: 'build-failed', reason: 'error: x' }, 'the base did not run cleanly (build-failed): it is measured again on the next run'],
    ['cancelled', { status: 'cancelled' }, 'the base did not run cleanly (cancelled): it is measured again on the next run'],
    ['unmeasured', { analysis: undefined }, 'the base has no analysis: it is measured again on the next run'],
  ])('a %s base is never saved, and the log says why', async (_what, patch, why) => {
    const { base } = await recordedReport({ base: patch });
    expect(whyNotCacheable(base)).toBe(why);
    const key = `alloc-balance-base-v1-6.1.0-57-amd64-9f2c1e0b7d4a-${_what}`;
    const lines: string[] = [];
    await caching(key, RUN_1, lines).save(base);
    expect(lines).toEqual([`base cache: not saved: ${why}`]);
    expect(cache.server().entries.some((e) => e.key === key)).toBe(false);
  });

  test('a base whose trace lost events (an inconclusive base) is never saved', async () => {
    const { base } = await recordedReport();
    const incomplete = { ...base, analysis: { ...base.analysis!, complete: false, lostEvents: 12 } };
    expect(whyNotCacheable(incomplete)).toBe('the base trace is incomplete (lost events): an inconclusive base is measured again on the next run');
  });

  test("an entry that is not this base's is not used whatever its key says", async () => {
    const { base } = await recordedReport();
    const key = 'alloc-balance-base-v1-6.1.0-57-amd64-9f2c1e0b7d4a-000000000000000000000002';
    const lines: string[] = [];
    await caching(key, RUN_1, lines).save(base);
    expect(await caching(key, RUN_2, lines).restore({ ref: 'main', sha: HEAD_SHA })).toBeNull();
    expect(lines.pop()).toBe(`base cache: the entry ${key} does not hold this base's clean result; the base side runs`);
  });

  test('without the cache service: one line, the base runs', async () => {
    const lines: string[] = [];
    const none = new BaseCaching({ available: false, restore: async () => false, save: async () => false }, 'k', join(work, 'x'), RUN_1, (l) => lines.push(l));
    expect(await none.restore({ ref: 'main', sha: BASE_SHA })).toBeNull();
    await none.save((await recordedReport()).base);
    expect(lines).toEqual(['base cache: the Actions cache is not available here; the base side runs']);
  });
});

describe('measure() with the base cache', () => {
  const settings = parseSettings((name) => ({ workload: './app -n 2', 'module-dir': 'driver' })[name] ?? '');
  const io = (lines: string[], baseCache: BaseCaching) => ({
    log: (l: string) => lines.push(l),
    group: <T>(_name: string, fn: () => Promise<T>) => fn(),
    baseCache,
  });

  test('a cached base is not run: only the PR side is, and the verdict compares against the cached base', async () => {
    const { base } = await recordedReport();
    const key = 'alloc-balance-base-v1-6.1.0-57-amd64-9f2c1e0b7d4a-000000000000000000000003';
    await caching(key, RUN_1, []).save(base);
    const lines: string[] = [];
    // The PR tree lacks module-dir: its side stops before the target, which this test has none of.
    const trees = { base: join(work, 'no-base-tree'), pr: join(work, 'no-pr-tree') };
    const measured = await measure(
      settings,
      { base: { side: 'base', ref: 'main', sha: BASE_SHA, dir: trees.base }, pr: { side: 'pr', ref: 'fix', sha: HEAD_SHA, dir: trees.pr } },
      NO_TARGET,
      io(lines, caching(key, RUN_2, lines)),
      join(work, 'out-1'),
    );
    expect(measured.base.cached?.runUrl).toBe(RUN_1.runUrl);
    expect(measured.base.analysis).toEqual(base.analysis);
    expect(measured.pr.status).toBe('setup-failed');
    expect(measured.comparison.verdict).toBe('fail');
    expect(lines.some((l) => l.startsWith('base: '))).toBe(false);
    expect(lines).toContain('pr: setup-failed - module-dir driver does not exist in pr (4e7d2c9a1b0f)');
  });

  test('a base that failed is run and not saved', async () => {
    const key = 'alloc-balance-base-v1-6.1.0-57-amd64-9f2c1e0b7d4a-000000000000000000000004';
    const lines: string[] = [];
    const measured = await measure(
      settings,
      {
        base: { side: 'base', ref: 'main', sha: BASE_SHA, dir: join(work, 'none-base') },
        pr: { side: 'pr', ref: 'fix', sha: HEAD_SHA, dir: join(work, 'none-pr') },
      },
      NO_TARGET,
      io(lines, caching(key, RUN_1, lines)),
      join(work, 'out-2'),
    );
    expect(measured.base.status).toBe('setup-failed');
    expect(measured.comparison.verdict).toBe('inconclusive');
    expect(lines).toContain('base cache: not saved: the base did not run cleanly (setup-failed): it is measured again on the next run');
    expect(cache.server().entries.some((e) => e.key === key)).toBe(false);
  });
});

describe('foldersDigest', () => {
  test('follows the contents, not the times; an empty list digests to nothing', () => {
    const dir = join(work, 'workload');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'bin', 'app'), '#!/bin/sh\necho ready\n', { mode: 0o755 });
    symlinkSync('bin/app', join(dir, 'app'));
    const first = foldersDigest([dir]);
    expect(first).toMatch(/^[0-9a-f]{24}$/);
    writeFileSync(join(dir, 'bin', 'app'), '#!/bin/sh\necho ready\n', { mode: 0o755 });
    expect(foldersDigest([dir])).toBe(first);
    writeFileSync(join(dir, 'bin', 'app'), '#!/bin/sh\necho ready now\n');
    expect(foldersDigest([dir])).not.toBe(first);
    expect(foldersDigest([join(work, 'absent')])).not.toBe(foldersDigest([dir]));
    expect(foldersDigest([])).toBe('');
  });
});
