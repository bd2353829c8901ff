// Verdicts that must hold when the run is not a clean netdev count: the bundled action under
// Node 24, in the vm target, against the fixed kni_like module. A kmalloc leak among the whole
// kernel's kmalloc/kfree traffic, a trace buffer too small for the run, a kernel WARNING.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import type { RunReport } from '../../src/core/model.js';
import { ROOT, assertActionReady, kniLikeInputs, runAction } from '../support/action-harness.js';
import { writeKniLikeModule } from '../support/kni-like-variants.js';
import { useTempDir } from '../support/temp-dir.js';

const FIXTURE = join(ROOT, 'demo/kni-like');
const KMEM = 'kmalloc:kfree';

const work = useTempDir('ab-faults-');
let repo: FixtureRepo;
let fixed = '';

beforeAll(() => {
  findLabKernel(); // fails with the set-up command when the lab is missing
  assertActionReady();
  repo = createFixtureRepo(FIXTURE, join(work, 'repo'), ['fixed', 'warn']);
  [fixed] = repo.shas;
});

function run(name: string, inputs: Record<string, string>) {
  const dir = join(work, name);
  const r = runAction({ dir, workspace: repo.dir, inputs: kniLikeInputs(repo.app, join(dir, 'out'), { 'base-ref': fixed, 'head-ref': fixed, ...inputs }) });
  // AB_RECORD=1 records every run of RECORDED_RUNS; AB_RECORD=NAME,... only those.
  const record = process.env.AB_RECORD;
  if (record && RECORDED_RUNS.includes(name) && (record === '1' || record.split(',').includes(name))) keepRun(name, join(dir, 'out'));
  return r;
}

/** Runs kept as test data for the core tests (test/data/recorded/faults-NAME). */
const RECORDED_RUNS = ['kmem-leak', 'lost', 'kmem-rcu'];
const RECORDED = ['trace.txt', 'sections.json', 'status.json', 'stats-cpu0.txt', 'stats-cpu1.txt', 'slabinfo-before.txt', 'slabinfo-after.txt', 'dmesg.txt'];

/**
 * AB_RECORD=1: copies the PR side's out dir into test/data/recorded/faults-NAME for the core
 * tests, with `nm` of the module (rebuilt from the same source: the run's worktree is gone).
 */
function keepRun(name: string, out: string): void {
  const side = join(out, 'pr');
  if (!existsSync(join(side, 'trace.txt'))) return;
  const dest = join(ROOT, 'test/data/recorded', `faults-${name}`);
  mkdirSync(dest, { recursive: true });
  for (const f of RECORDED) if (existsSync(join(side, f))) copyFileSync(join(side, f), join(dest, f));
  const build = join(work, `nm-${name}`);
  writeKniLikeModule(build, 'fixed');
  execFileSync('make', ['-C', findLabKernel().buildDir, `M=${build}`, 'modules'], { stdio: 'ignore' });
  writeFileSync(join(dest, 'kni_like.nm'), execFileSync('nm', ['-f', 'sysv', '--defined-only', join(build, 'kni_like.ko')], { encoding: 'utf8' }));
}

/** The line of kni_like.c that allocates the stats block. */
function kzallocLine(): number {
  const lines = readFileSync(join(FIXTURE, 'kni_like.c'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes('kdev->stats = kzalloc('));
  if (at < 0) throw new Error('kni_like.c has no stats kzalloc');
  return at + 1;
}

function kmemTotal(report: RunReport) {
  const row = report.comparison.rows.find((r) => r.pair === KMEM && r.total);
  if (!row) throw new Error(`no ${KMEM} total row in ${JSON.stringify(report.comparison.rows)}`);
  return row;
}

describe('faults and noise through the action in a VM', () => {
  test("kmalloc:kfree with leak_stats=1 and fail-on any-leak: fail, 2 objects/cycle at the stats kzalloc; the kernel's own kmallocs count as nothing", () => {
    const r = run('kmem-leak', { track: KMEM, 'fail-on': 'any-leak', 'module-args': 'leak_stats=1' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.code).toBe(1);
    const report = r.report!;
    const total = kmemTotal(report);
    expect(total.pr?.leakedPerCycle).toBe(2);
    expect(total.pr?.growth).toEqual([2, 4, 6]);
    const leaking = report.comparison.rows.filter((x) => !x.total && x.pr && x.pr.outstanding > 0);
    expect(leaking.map((x) => x.caller)).toEqual(['kni_like_stats_create']);
    expect(leaking[0].location).toBe(`kni_like.c:${kzallocLine()}`);
    // Only the module's call sites are rows: the file's kzalloc in open() is balanced.
    expect(report.comparison.rows.every((x) => x.inModule === true)).toBe(true);
    expect(report.comparison.rows.find((x) => x.caller === 'kni_like_open')?.status).toBe('balanced');
    const pair = report.pr.analysis!.pairs[0];
    expect(pair.method).toBe('kmem');
    expect(pair.ignoredAllocs, 'kmalloc calls by the rest of the kernel').toBeGreaterThan(1000);
    expect(pair.unmatchedFrees).toBe(0);
    // The stats blocks (24 bytes) and the per-file state of kni_like_open (56 bytes).
    expect(pair.caches).toEqual([
      { cache: 'kmalloc-64', allocs: 3, outstanding: 0 },
      { cache: 'kmalloc-32', allocs: 6, outstanding: 6 },
    ]);
    expect(pair.objects).toHaveLength(6);
    expect(report.pr.analysis!.complete).toBe(true);
    const check = report.pr.analysis!.slabCheck?.[0];
    expect(check?.basis).toBe('cache');
    expect(check?.caches.map((c) => c.cache)).toEqual(['kmalloc-32', 'kmalloc-64']);
    expect(r.summary).toMatch(/❌ fail: PR leaks 2 objects\/cycle at kni_like_stats_create/);
    expect(r.summary).toMatch(/slabinfo, kmalloc:kfree: kmalloc-32: 6 objects of the module outstanding, active objects [+-]?\d+; kmalloc-64: 0 objects/);
  });

  test("kmalloc:kfree without leak_stats: pass, every module kmalloc freed among the kernel's noise", () => {
    const r = run('kmem-clean', { track: KMEM, 'fail-on': 'any-leak' });
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    expect(r.code).toBe(0);
    const total = kmemTotal(r.report!);
    expect(total.pr?.allocs).toBe(6 + 3); // a stats block per port, the file's state per run
    expect(total.pr?.outstanding).toBe(0);
    expect(r.report!.pr.analysis!.pairs[0].ignoredAllocs).toBeGreaterThan(1000);
    expect(r.report!.comparison.rows.find((x) => x.caller === 'kni_like_stats_create')?.status).toBe('balanced');
  });

  test('kmalloc:kfree with the stats freed by kvfree_rcu(): pass, 0/cycle on both sides, each block released when queued', () => {
    const r = run('kmem-rcu', { track: KMEM, 'fail-on': 'any-leak', 'module-args': 'rcu_free_stats=1' });
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    const stats = r.report!.comparison.rows.find((x) => x.caller === 'kni_like_stats_create');
    for (const side of [stats?.base, stats?.pr]) expect(side).toMatchObject({ allocs: 6, frees: 6, outstanding: 0, leakedPerCycle: 0, growth: [0, 0, 0] });
    expect(r.report!.comparison.headline).toBe('✅ pass: the PR leaks nothing — PR leaks 0/cycle (base 0/cycle)');
    expect(JSON.parse(readFileSync(join(work, 'kmem-rcu', 'out', 'pr', 'status.json'), 'utf8')).notes).toContain(
      'kvfree_call_rcu traced: an object given to kfree_rcu() counts as released when it is queued',
    );
  });

  test('a trace buffer too small for the run: inconclusive, events lost, advice to raise trace-buffer-kb; never a pass', () => {
    const r = run('lost', { track: KMEM, 'trace-buffer-kb': '64', workload: `${repo.app} -n 8`, cycles: '4', 'fail-on': 'any-leak' });
    expect(r.outputs.verdict, r.stdout).toBe('inconclusive');
    expect(r.code).toBe(1);
    const a = r.report!.pr.analysis!;
    expect(a.complete).toBe(false);
    expect(a.lostEvents).toBeGreaterThan(0);
    expect(a.lostBy?.buffer).toBe(a.lostEvents);
    expect(r.report!.comparison.headline).toMatch(/^⚠️ inconclusive: the PR trace lost \d+ events \(the trace buffer overflowed: raise trace-buffer-kb\)/);
    expect(r.summary).toMatch(/inconclusive/);
  });

  test('a kernel WARNING during the run: fail, with the WARNING from the kernel log in the summary', () => {
    const r = run('warn', { 'head-ref': repo.shas[1], cycles: '1' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    expect(r.code).toBe(1);
    expect(r.report!.base.status).toBe('ok');
    expect(r.report!.pr.status).toBe('kernel-splat');
    expect(r.report!.comparison.headline).toMatch(/^❌ fail: on the PR build the kernel reported an error/);
    expect(r.summary).toMatch(/WARNING: CPU: \d+ PID: \d+ at .*kni_like/);
    expect(r.summary).toMatch(/kni_like: warn_on_release set/);
  });
});
