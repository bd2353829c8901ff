// The target runner on a real kernel: the kni_like fixture built with Kbuild, loaded in a QEMU
// guest, its workload started and killed, tracing set up and restored. One boot runs all the
// scenarios of test/kernel-side/guest/scenarios.sh; a second boot loads a module that oopses.
// Without a prepared lab (`alloc-balance lab setup`) these tests fail with the command to run.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildModule } from '../../src/module-build/build-module.js';
import { moduleSymbols } from '../../src/module-build/module-info.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { findLabKernel, type LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { runInGuest, type GuestResult } from '../../src/lab/run-in-guest.js';
import type { TargetJob } from '../../src/kernel-side/job.js';
import type { TargetStatus } from '../../src/kernel-side/status.js';
import { buildKniLikeApp, writeKniLikeModule } from '../support/kni-like-variants.js';
import { useTempDir } from '../support/temp-dir.js';

const GUEST_DIR = join(import.meta.dirname, 'guest');
const RECORDED = join(import.meta.dirname, '..', 'data', 'recorded');

let kernel: LabManifestEntry;
const work = useTempDir('ab-target-test-');
let app: string;
let cli: string;
let guest: GuestResult;

const read = (...p: string[]) => readFileSync(join(work, ...p), 'utf8');
const status = (name: string): TargetStatus => JSON.parse(read(name, 'status.json'));
const rc = (name: string) => Number(read(`${name}.rc`).trim());
const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, 'gm')) ?? []).length;

/** check-state.sh output as an object. */
function state(name: string): Record<string, string> {
  return Object.fromEntries(
    read(`check-${name}.txt`)
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

/** Nothing of run `runId` is left on the kernel, and nothing global was touched. */
function expectClean(name: string): void {
  expect(state(name)).toEqual({
    kprobe_events_of_group: '0',
    kprobe_events_total: '0',
    instance: 'absent',
    instances_total: '0',
    module: 'unloaded',
    workload_processes: '0',
    lock: 'absent',
    top_current_tracer: 'nop',
    top_ftrace_filter_lines: '0',
    nr_hugepages: '0',
    hugetlbfs_mounts: '0',
  });
}

function job(runId: string, over: Partial<TargetJob> = {}, workload: Partial<TargetJob['workload']> = {}): TargetJob {
  return {
    module: { path: join(work, 'leaky', 'kni_like.ko'), name: 'kni_like', args: '' },
    workload: {
      command: `${app} -n 2`,
      readyPattern: '^ready$',
      readyCommand: '',
      readyDelaySeconds: 0,
      readyTimeoutSeconds: 30,
      holdSeconds: 0.3,
      stopSignal: 'SIGTERM',
      graceSeconds: 5,
      cwd: work,
      env: {},
      ...workload,
    },
    cycles: 3,
    track: [{ alloc: 'alloc_netdev_mqs', free: 'free_netdev' }],
    traceBufferKb: 2048,
    stacks: true,
    outDir: join(work, runId),
    runId,
    ...over,
  };
}

beforeAll(async () => {
  kernel = findLabKernel();
  const t0 = performance.now();
  for (const variant of ['leaky', 'fixed'] as const) {
    writeKniLikeModule(join(work, variant), variant);
    const r = await buildModule({ moduleDir: join(work, variant), kernelBuildDir: kernel.buildDir });
    if (!r.ok) throw new Error(`kni_like (${variant}) did not build: ${r.reason}\n${r.excerpt}`);
  }
  app = buildKniLikeApp(join(work, 'app'));
  cli = join(work, 'cli.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, '../../src/cli.ts')],
    outfile: cli,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'error',
    banner: { js: "import { createRequire as __abRequire } from 'node:module'; const require = __abRequire(import.meta.url);" },
  });
  const t1 = performance.now();

  const jobs: TargetJob[] = [
    job('unknown', { track: [{ alloc: 'alloc_netdev_mq', free: 'free_netdevs' }] }),
    job('loaded'),
    job('leaky', { hugepages: 4 }),
    // Ready when the second port's interface exists (like the DPDK preset's `ip link show vEth0`).
    job('fixed', { module: { path: join(work, 'fixed', 'kni_like.ko'), name: 'kni_like', args: '' } }, { readyPattern: '', readyCommand: 'ip link show kl1' }),
    job('exitnow', {}, { command: `${app} --exit-now` }),
    job('kmem', {
      cycles: 1,
      track: [
        { alloc: 'alloc_netdev_mqs', free: 'free_netdev' },
        { alloc: 'kmalloc', free: 'kfree' },
      ],
    }),
    job('warn', { cycles: 1, module: { path: join(work, 'fixed', 'kni_like.ko'), name: 'kni_like', args: 'warn_on_release=1' } }),
    job('timeout', { cycles: 50, timeoutSeconds: 6 }, { holdSeconds: 1 }),
    // A long hold: the state check and the SIGTERM land inside cycle 2 however slow a loaded guest is.
    job('cancel', { cycles: 50 }, { holdSeconds: 30 }),
    job('killed', { cycles: 50 }, { holdSeconds: 6 }),
  ];
  for (const j of jobs) writeFileSync(join(work, `${j.runId}.json`), JSON.stringify(j, null, 2));

  guest = await runInGuest(
    kernel,
    {
      argv: ['/bin/sh', join(GUEST_DIR, 'scenarios.sh'), cli, work, app],
      cwd: work,
      outDir: work,
      shares: [GUEST_DIR, dirname(cli), dirname(app)],
      timeoutSeconds: 400,
    },
    { bootTimeoutSeconds: 120 },
  );
  console.log(
    `target scenarios: build 2 modules + app + cli ${((t1 - t0) / 1000).toFixed(1)} s, boot ${guest.seconds.boot} s, ` +
      `guest job ${guest.seconds.run} s (${guest.accel.kind})`,
  );
  if (guest.exitCode !== 0 || !guest.console.includes('scenarios-done')) {
    throw new Error(`guest scenarios did not finish (exit ${guest.exitCode}, panic ${guest.kernelPanic}):\n${guest.console.slice(-3000)}`);
  }
});

describe('target run in a VM', () => {
  test('leaky kni_like, 3 cycles: kprobe and function-tracer events, cycle markers, stacks, status ok, kernel restored', async () => {
    expect(read('leaky.stderr')).not.toContain('internal error');
    expect(rc('leaky')).toBe(0);
    const s = status('leaky');
    expect(s.status).toBe('ok');
    expect(s.kernel).toBe(kernel.release);
    expect(s.timings.cycles.map((c) => c.cycle)).toEqual([1, 2, 3]);
    expect(s.timings.cycles.every((c) => c.readySeconds > 0 && !c.killed && c.exitSignal === 'SIGTERM')).toBe(true);
    expect(s.sections['.text']).toMatch(/^0xffffffffc[0-9a-f]{7}$/);
    expect(JSON.parse(read('leaky', 'sections.json'))).toEqual(s.sections);
    for (const f of [
      'trace.txt',
      'sections.json',
      'slabinfo-before.txt',
      'slabinfo-after.txt',
      'dmesg.txt',
      'kprobe-profile.txt',
      'stats-cpu0.txt',
      'workload-3.log',
    ]) {
      expect(s.files).toContain(f);
      expect(existsSync(join(work, 'leaky', f))).toBe(true);
    }
    expect(read('leaky', 'workload-1.log')).toBe('created 2 ports\nready\nstopping\n');
    expect(s.notes).toContain('reserved 4 hugepages for the run (0 before; restored after)');
    expect(s.notes).toContain('mounted hugetlbfs (2 MiB pages) at /run/alloc-balance/hugepages-leaky for the run (unmounted after)');

    const trace = read('leaky', 'trace.txt');
    const header = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(trace);
    expect(header?.[1]).toBe(header?.[2]);
    // options/sym-addr: every symbolized address is followed by ` <ffffffff...>`.
    const markers = [...trace.matchAll(/tracing_mark_write <[0-9a-f]{16}>: alloc-balance (.*)$/gm)].map((m) => m[1]);
    expect(markers).toEqual(['phase=load', 'cycle=1 start', 'cycle=1 end', 'cycle=2 start', 'cycle=2 end', 'cycle=3 start', 'cycle=3 end', 'phase=unload']);
    // 3 cycles x 2 ports x (net_dev + lad_dev) allocated; only net_dev released.
    expect(count(trace, / a0: \(0x[0-9a-f]+ <[0-9a-f]{16}> <- alloc_netdev_mqs <[0-9a-f]{16}>\) ret=0x[0-9a-f]+$/)).toBe(12);
    expect(count(trace, / f0: \(free_netdev\+0x0\/0x[0-9a-f]+ <[0-9a-f]{16}>\) ptr=0x[0-9a-f]+$/)).toBe(6);
    expect(count(trace, / alloc_netdev_mqs <[0-9a-f]{16}> <-0x[0-9a-f]+ <[0-9a-f]{16}>$/)).toBe(12);
    expect(count(trace, / free_netdev <[0-9a-f]{16}> <-0x[0-9a-f]+ <[0-9a-f]{16}>$/)).toBe(6);
    expect(count(trace, /: <stack trace>$/)).toBe(12);
    expect(read('leaky', 'kprobe-profile.txt')).toBe('ableaky/a0 hits=12 misses=0\nableaky/f0 hits=6 misses=0\n');
    for (const cpu of s.files.filter((f) => f.startsWith('stats-cpu'))) expect(read('leaky', cpu)).toMatch(/^overrun: 0$/m);

    // The objects never released are exactly the lad_devs, allocated in igb_like_probe.
    // Paired in trace order: a released net_dev's address may be reused by a later lad_dev.
    const allocated = new Map<string, string>();
    for (const m of trace.matchAll(
      new RegExp(
        /a0: \((0x[0-9a-f]+) <[0-9a-f]{16}> <- alloc_netdev_mqs <[0-9a-f]{16}>\) ret=(0x[0-9a-f]+)/.source +
          /|f0: \(free_netdev\+0x0\/0x[0-9a-f]+ <[0-9a-f]{16}>\) ptr=(0x[0-9a-f]+)/.source,
        'g',
      ),
    )) {
      if (m[2] !== undefined) allocated.set(m[2], m[1]);
      else allocated.delete(m[3]);
    }
    const map = new ModuleMap('kni_like', await moduleSymbols(join(work, 'leaky', 'kni_like.ko')), s.sections);
    const leakedCallers = [...allocated.values()].map((a) => map.resolve(a).caller.replace(/\+0x[0-9a-f]+$/, ''));
    expect(leakedCallers).toEqual(Array(6).fill('igb_like_probe'));

    expectClean('leaky');

    if (process.env.AB_RECORD === '1') record('leaky', await moduleSymbols(join(work, 'leaky', 'kni_like.ko')));
  });

  test('fixed kni_like, ready by a polled command: every allocation released, status ok, kernel restored', async () => {
    expect(rc('fixed')).toBe(0);
    expect(status('fixed').status).toBe('ok');
    expect(status('fixed').timings.cycles.every((c) => c.readySeconds > 0)).toBe(true);
    const trace = read('fixed', 'trace.txt');
    expect(count(trace, / a0: \(/)).toBe(12);
    expect(count(trace, / f0: \(/)).toBe(12);
    expect(count(trace, / alloc_netdev_mqs <[0-9a-f]{16}> <-/)).toBe(12);
    expect(count(trace, / free_netdev <[0-9a-f]{16}> <-/)).toBe(12);
    expectClean('fixed');
    if (process.env.AB_RECORD === '1') record('fixed', await moduleSymbols(join(work, 'fixed', 'kni_like.ko')));
  });

  test('unknown function names are refused before insmod, with close matches', () => {
    expect(rc('unknown')).toBe(1);
    const s = status('unknown');
    expect(s.status).toBe('setup-failed');
    expect(s.reason).toMatch(/^track: "alloc_netdev_mq" \(alloc\) is not a traceable kernel function on this kernel: did you mean alloc_netdev_mqs\b/);
    expect(s.reason).toMatch(/"free_netdevs" \(free\) is not a traceable kernel function on this kernel: did you mean free_netdev\b/);
    // Refused before anything was loaded or set up.
    expect(read('unknown.dmesg-count').trim()).toBe('0');
    expect(s.timings.load).toBe(0);
    expect(s.tracing).toBeNull();
    expectClean('unknown');
  });

  test('a module of the same name already loaded is refused', () => {
    expect(rc('loaded')).toBe(1);
    expect(status('loaded')).toMatchObject({ status: 'setup-failed', reason: expect.stringContaining('module kni_like is already loaded') });
    expect(existsSync(join(work, 'loaded', 'trace.txt'))).toBe(false);
    expectClean('loaded');
  });

  test('a workload that exits at once: workload-not-ready with its output; kernel restored', () => {
    expect(rc('exitnow')).toBe(0);
    const s = status('exitnow');
    expect(s.status).toBe('workload-not-ready');
    expect(s.reason).toBe('cycle 1: the workload exited with code 3 before it was ready (it said: kni_like_app: --exit-now: exiting before ready)');
    expect(s.logExcerpt).toContain('kni_like_app: --exit-now: exiting before ready');
    // The module was loaded and unloaded; the trace is still collected for the record.
    expect(read('exitnow', 'trace.txt')).toContain('alloc-balance phase=unload');
    expectClean('exitnow');
  });

  test('kmalloc:kfree traces the kmem tracepoints beside the function pair', () => {
    expect(rc('kmem')).toBe(0);
    const s = status('kmem');
    expect(s.status).toBe('ok');
    // 6.1 has no kmalloc_node event any more (kmalloc carries the node).
    expect(s.tracing?.kmemEvents).toEqual(['kmem/kmalloc', 'kmem/kfree']);
    const trace = read('kmem', 'trace.txt');
    // kmem events print ptr without 0x.
    expect(trace).toMatch(/ kmalloc: call_site=\S+( \[\w+\])? ptr=[0-9a-f]{16} bytes_req=\d+/);
    expect(trace).toMatch(/ kfree: call_site=\S+( \[\w+\])? ptr=[0-9a-f]{16}$/m);
    expect(count(trace, / a0: \(/)).toBe(4);
    expectClean('kmem');
  });

  test('a WARN during the run: status kernel-splat with the report; kernel restored', () => {
    expect(rc('warn')).toBe(0);
    const s = status('warn');
    expect(s.status).toBe('kernel-splat');
    expect(s.reason).toBe('the kernel reported WARNING during the run');
    expect(s.logExcerpt).toContain('kni_like: warn_on_release set');
    expect(s.logExcerpt).toMatch(/WARNING: CPU: \d+ PID: \d+ at .*kni_like\.c:\d+ kni_like_release/);
    expect(read('warn', 'dmesg.txt')).toContain('---[ end trace');
    expectClean('warn');
  });

  test('a run past its time limit: status timeout, runner exit 1, kernel restored', () => {
    expect(rc('timeout')).toBe(1);
    const s = status('timeout');
    expect(s.status).toBe('timeout');
    expect(s.reason).toBe('the run took longer than 6 s');
    expect(s.timings.cycles.length).toBeGreaterThanOrEqual(1);
    expect(s.timings.cycles.length).toBeLessThan(50);
    expect(read('timeout', 'trace.txt')).toContain('alloc-balance phase=unload');
    expectClean('timeout');
  });

  test('SIGTERM to the runner mid-cycle: status cancelled, workload stopped, module unloaded, tracing removed', () => {
    expect(existsSync(join(work, 'cancel.problem'))).toBe(false);
    const before = state('cancel-before');
    expect(before).toMatchObject({ kprobe_events_of_group: '2', instance: 'present', module: 'loaded', workload_processes: '1', lock: 'present' });
    expect(rc('cancel')).toBe(143);
    const s = status('cancel');
    expect(s.status).toBe('cancelled');
    expect(s.reason).toBe('the run was cancelled by SIGTERM');
    // Cancelled while cycle 2 held the workload: the cycle is accounted for, not completed.
    expect(s.timings.cycles.map((c) => c.cycle)).toEqual([1, 2]);
    expect(s.timings.cycles[1].heldSeconds).toBe(0);
    expect(s.files).toContain('workload-2.log');
    expect(s.restoreProblems).toEqual([]);
    expect(existsSync(join(work, 'cancel', 'cleanup-state.json'))).toBe(false);
    expectClean('cancel');
  });

  test('SIGKILL to the runner: `target cleanup --state` restores the kernel', () => {
    expect(existsSync(join(work, 'killed.problem'))).toBe(false);
    expect(state('killed-before')).toMatchObject({
      kprobe_events_of_group: '2',
      instance: 'present',
      module: 'loaded',
      workload_processes: '1',
      lock: 'present',
    });
    expect(rc('killed-cleanup')).toBe(0);
    expect(read('killed-cleanup.stdout')).toMatch(/^cleanup: \d+ step\(s\), 0 problem\(s\)$/m);
    expect(existsSync(join(work, 'killed', 'cleanup-state.json'))).toBe(false);
    expectClean('killed');
  });
});

describe('target run in a VM: a module that oopses on load', () => {
  test('the VM panics (oops=panic) and the run reports it with the oops excerpt', async () => {
    const j = job('oops', { module: { path: join(work, 'leaky', 'kni_like.ko'), name: 'kni_like', args: 'oops_on_load=1' } });
    writeFileSync(join(work, 'oops.json'), JSON.stringify(j));
    const r = await runInGuest(kernel, {
      argv: ['node', cli, 'target', 'run', '--job', join(work, 'oops.json')],
      cwd: work,
      outDir: join(work, 'oops-guest'),
      shares: [work, dirname(cli)],
      timeoutSeconds: 120,
    });
    expect(r.kernelPanic).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.panicExcerpt).toContain('kni_like: oops_on_load set, dereferencing NULL');
    expect(r.panicExcerpt).toMatch(/BUG: kernel NULL pointer dereference|Oops/);
    expect(r.panicExcerpt).toContain('kni_like_init');
  });
});

/** Keeps a real trace and what symbolizes it for the parser's tests. */
function record(name: 'leaky' | 'fixed', nm: string): void {
  const dir = join(RECORDED, `kni-like-${name}-3cycles`);
  mkdirSync(dir, { recursive: true });
  for (const f of status(name).files) {
    if (f.startsWith('workload-') || f === 'dmesg.txt') continue;
    copyFileSync(join(work, name, f), join(dir, f));
  }
  writeFileSync(join(dir, 'kni_like.nm'), nm);
}
