// The bundled action on a runner with no VM lab: ALLOC_BALANCE_LAB names an empty directory and
// an Actions cache service (on 127.0.0.1, see test/support/cache-server.ts) starts empty. Only the
// inputs of the README's minimal workflow. The action sets the lab up itself and saves it; a second
// run on an empty lab again restores it from the cache instead of setting it up anew.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../src/core/model.js';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { initFingerprint } from '../../src/lab/guest-scripts.js';
import { readManifest } from '../../src/lab/lab-kernel.js';
import { labCacheKey } from '../../src/lab/lab-cache-key.js';
import { startCacheServer, type CacheServer } from '../support/cache-server.js';
import { ROOT, assertActionReady, runActionAsync } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = join(ROOT, 'demo/kni-like');

const work = useTempDir('ab-e2e-lab-');
const lab = useTempDir('ab-e2e-empty-lab-');
let repo: FixtureRepo;
let cache: CacheServer;
let fixed = '';
let leaky = '';

beforeAll(async () => {
  assertActionReady();
  repo = createFixtureRepo(FIXTURE, join(work, 'repo'), ['fixed', 'leaky']);
  [fixed, leaky] = repo.shas;
  cache = await startCacheServer(join(work, 'cache-service'));
});

afterAll(async () => {
  await cache?.close();
});

function pullRequest(base: string, head: string) {
  const payload = JSON.parse(readFileSync(join(ROOT, 'test/data/events/pull_request.json'), 'utf8'));
  payload.pull_request.base.sha = base;
  payload.pull_request.head.sha = head;
  return { name: 'pull_request', payload };
}

/** The README's minimal workflow: these inputs and no others (no token: nothing is posted). */
function minimalInputs(): Record<string, string> {
  return {
    'module-dir': '.',
    workload: `${repo.app} -n 2`,
    'vm-folders': dirname(repo.app),
    'ready-pattern': '^ready',
    track: 'alloc_netdev_mqs:free_netdev',
    cycles: '3',
  };
}

function run(name: string, base: string, head: string) {
  return runActionAsync({
    dir: join(work, name),
    workspace: repo.dir,
    inputs: minimalInputs(),
    event: pullRequest(base, head),
    env: { GITHUB_REPOSITORY: 'nic-lab/kni-driver', ALLOC_BALANCE_LAB: lab, ...cache.env },
  });
}

/** The "Kernel lab" log group, printed without @actions/cache's debug lines (its step timings are the measurement). */
function labGroup(stdout: string): string {
  const start = stdout.indexOf('::group::Kernel lab');
  const group = start < 0 ? '' : stdout.slice(start, stdout.indexOf('::endgroup::', start));
  console.log(
    group
      .split('\n')
      .filter((l) => !l.startsWith('::debug::'))
      .join('\n'),
  );
  return group;
}

function labEntries() {
  return cache.entries.filter((e) => e.finalized && e.key.startsWith('alloc-balance-lab-'));
}

function report(outputs: Record<string, string>): RunReport {
  return JSON.parse(readFileSync(outputs.report, 'utf8')) as RunReport;
}

describe('target: vm on a runner without a lab', () => {
  let key = '';

  test('the action sets up the lab in a "Kernel lab" group, saves it to the cache, and gives the verdict', async () => {
    const t0 = Date.now();
    const r = await run('first', fixed, leaky);
    console.log(`first run (set-up): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.code).toBe(1);
    expect(r.outputs['leaked-per-cycle'], r.stdout).toBe('2');
    expect(
      report(r.outputs)
        .comparison.rows.filter((x) => !x.total && x.status === 'new-leak')
        .map((x) => x.caller),
    ).toEqual(['igb_like_probe']);

    const manifest = readManifest(lab);
    const releases = Object.keys(manifest.kernels);
    expect(releases).toHaveLength(1);
    const [release] = releases;
    expect(manifest.kernels[release].initFingerprint).toBe(initFingerprint());
    key = labCacheKey(release, initFingerprint());

    const group = labGroup(r.stdout);
    expect(group, r.stdout).toContain(`VM lab in ${lab} has no kernel of line 6.1 prepared; setting it up in ${lab}`);
    expect(group).toContain(`lab plan --dir ${lab} --json`);
    // The kernel from Debian's archive: its packages found, downloaded and extracted into the lab, never installed.
    for (const step of ['packages', 'archive', 'download', 'extract', 'headers', 'extract vmlinux', 'initramfs']) {
      expect(group).toMatch(new RegExp(`^lab: ${step}: [\\d.]+ s$`, 'm'));
    }
    expect(group).toContain(`Actions cache: no entry ${key}`);
    expect(group).toMatch(new RegExp(`^Actions cache: saved ${key} \\([\\d.]+ s\\)$`, 'm'));
    // The lab's entry; the base side's result is kept in the cache too, under its own key.
    expect(labEntries().map((e) => e.key)).toEqual([key]);
    expect(cache.unknown).toEqual([]);
  });

  test('on an empty lab again, the lab comes from the cache: no image download, nothing saved', async () => {
    expect(key, 'the first run must have saved the lab').not.toBe('');
    rmSync(lab, { recursive: true, force: true });
    mkdirSync(lab);
    const t0 = Date.now();
    const r = await run('second', leaky, fixed);
    console.log(`second run (restored): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    expect(r.code).toBe(0);
    const group = labGroup(r.stdout);
    expect(group, r.stdout).toMatch(new RegExp(`^Actions cache: restored ${key} \\([\\d.]+ s\\)$`, 'm'));
    expect(group).toMatch(/^lab: kernel \S+ already prepared in /m);
    expect(group).not.toMatch(/^lab: download: /m);
    expect(group).not.toContain('Actions cache: saved');
    expect(labEntries()).toHaveLength(1);
    expect(cache.unknown).toEqual([]);
  });
});
