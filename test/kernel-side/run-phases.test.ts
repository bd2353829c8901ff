// The kernel-side run's phases on a fake machine: what each records, refuses and leaves to undo.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { TargetJob } from '../../src/kernel-side/job.js';
import { runTargetJob } from '../../src/kernel-side/run-job.js';
import { collect, cycles, type JobRun, load, prepare, RunFailure, traceOn, unload } from '../../src/kernel-side/run-phases.js';
import { UndoLog } from '../../src/kernel-side/undo.js';
import { WorkloadFailure } from '../../src/kernel-side/workload.js';
import { commandResult, cycleRecord, type FakeTarget, fakeTarget, kernelTracefs } from '../support/fake-target.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
let n = 0;

function job(over: Partial<TargetJob> = {}): TargetJob {
  const outDir = join(dir, `out-${++n}`);
  const ko = join(dir, 'kni_like.ko');
  writeFileSync(ko, '');
  return {
    module: { path: ko, name: 'kni_like', args: '' },
    workload: {
      command: 'true',
      readyPattern: '',
      readyCommand: '',
      readyDelaySeconds: 1,
      readyTimeoutSeconds: 60,
      holdSeconds: 1,
      stopSignal: 'SIGTERM',
      graceSeconds: 10,
      cwd: '',
      env: {},
    },
    cycles: 2,
    track: [{ alloc: 'kmalloc', free: 'kfree' }],
    traceBufferKb: 1024,
    stacks: true,
    outDir,
    runId: `r${n}`,
    lockFile: join(dir, `lock-${n}`),
    ...over,
  };
}

type FakeRun = JobRun & { sys: FakeTarget };

async function newRun(j: TargetJob, sys: FakeTarget): Promise<FakeRun> {
  mkdirSync(j.outDir, { recursive: true });
  return {
    job: j,
    outDir: j.outDir,
    status: {
      schema: 'alloc-balance/target-status@1',
      status: 'ok',
      timings: { setup: 0, load: 0, cycles: [], unload: 0, collect: 0, total: 0 },
      kernel: sys.kernelRelease(),
      module: { ...j.module, vermagic: '' },
      sections: {},
      tracing: null,
      files: [],
      notes: [],
      restoreProblems: [],
      startedAt: '',
      finishedAt: '',
    },
    undo: new UndoLog(join(j.outDir, 'cleanup-state.json'), j.runId),
    abort: new AbortController().signal,
    log: () => {},
    sys,
    sinceStart: () => 0,
    loaded: false,
  };
}

/** A run that went through prepare and traceOn. */
async function tracedRun(j = job(), sys = fakeTarget()): Promise<FakeRun> {
  const run = await newRun(j, sys);
  const { traceable } = await prepare(run, j.lockFile ?? '');
  await traceOn(run, traceable);
  return run;
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof RunFailure ? { status: e.status, message: e.message, excerpt: e.logExcerpt } : Promise.reject(e)),
  );

describe('prepare', () => {
  test('refuses a module that is already loaded, before tracefs is touched', async () => {
    const sys = fakeTarget();
    sys.loaded.add('kni_like');
    const run = await newRun(job(), sys);
    expect(await failure(prepare(run, join(dir, 'lock-a')))).toEqual({
      status: 'setup-failed',
      message: 'module kni_like is already loaded: unload it first (rmmod kni_like); a run must load and unload it itself',
      excerpt: undefined,
    });
    expect(run.tfs).toBeUndefined();
  });

  test('refuses a module built for another kernel, naming the headers to build against', async () => {
    const run = await newRun(job(), fakeTarget(undefined, { readVermagic: async () => '5.10.0-9-amd64 SMP mod_unload' }));
    const f = await failure(prepare(run, join(dir, 'lock-b')));
    expect(f?.status).toBe('setup-failed');
    expect(f?.message).toContain('was built for kernel 5.10.0-9-amd64 but the target kernel is 6.1.0-fake-amd64');
  });

  test('a lock it cannot take is not left to undo', async () => {
    const run = await newRun(
      job(),
      fakeTarget(undefined, {
        acquireLock: () => {
          throw new Error('another run (pid 7) holds the lock');
        },
      }),
    );
    expect((await failure(prepare(run, join(dir, 'lock-c'))))?.message).toBe('another run (pid 7) holds the lock');
    expect(run.undo.pending).toEqual([]);
  });

  test('refuses a tracked name this kernel cannot trace, with the closest it can', async () => {
    const run = await newRun(
      job({ track: [{ alloc: 'alloc_netdev_mq', free: 'free_netdev' }] }),
      fakeTarget(kernelTracefs(['alloc_netdev_mqs', 'free_netdev'])),
    );
    const f = await failure(prepare(run, join(dir, 'lock-d')));
    expect(f?.message).toBe('track: "alloc_netdev_mq" (alloc) is not a traceable kernel function on this kernel: did you mean alloc_netdev_mqs?');
  });
});

describe('traceOn', () => {
  test('sets tracing up in a private instance and takes the "before" pictures', async () => {
    const run = await tracedRun();
    expect(run.trace?.instance).toBe(`instances/alloc-balance-${run.job.runId}`);
    expect(run.status.tracing?.kmemEvents).toEqual(['kmem/kmalloc', 'kmem/kmalloc_node', 'kmem/kfree']);
    expect(run.sys.tfs.files.get(`${run.trace?.instance}/tracing_on`)).toBe('1');
    expect(readFileSync(join(run.outDir, 'slabinfo-before.txt'), 'utf8')).toContain('kmalloc-64');
    expect(run.kmsgStart).toBe(0);
  });

  test('binds the NICs a job names before the cycles, notes it and leaves the binding to undo', async () => {
    const nics = { addresses: ['0000:00:03.0', '0000:00:05.0'], driver: 'igb_uio', load: ['/lab/uio.ko', '/build/igb_uio/igb_uio.ko'] };
    const run = await tracedRun(job({ nics }));
    expect(run.sys.calls).toContain('bind 0000:00:03.0 0000:00:05.0 to igb_uio');
    expect(run.status.notes).toContain('bound 0000:00:03.0, 0000:00:05.0 to igb_uio');
    expect(run.undo.pending.filter((s) => s.kind === 'pci-unbind')).toEqual([
      { kind: 'pci-unbind', address: '0000:00:03.0', driver: 'igb_uio' },
      { kind: 'pci-unbind', address: '0000:00:05.0', driver: 'igb_uio' },
    ]);
  });

  test('tracing: false traces nothing and says so', async () => {
    const run = await tracedRun(job({ tracing: false }));
    expect(run.trace).toBeUndefined();
    expect(run.status.notes).toContain('tracing off for this run (tracing: false): no trace is collected');
    expect(run.sys.tfs.dirs.has(`instances/alloc-balance-${run.job.runId}`)).toBe(false);
  });

  test('a tracefs write the kernel refuses fails the set-up, naming the file', async () => {
    const tfs = kernelTracefs();
    const j = job();
    tfs.refuse.add(`instances/alloc-balance-${j.runId}/buffer_size_kb`);
    const run = await newRun(j, fakeTarget(tfs));
    const { traceable } = await prepare(run, j.lockFile ?? '');
    const f = await failure(traceOn(run, traceable));
    expect(f?.status).toBe('setup-failed');
    expect(f?.message).toMatch(/^tracing set-up: .*buffer_size_kb: writing "1024" failed/);
  });
});

describe('load', () => {
  test('records the sections and puts a stack trigger on kmem events limited to the module range', async () => {
    const run = await tracedRun();
    await load(run);
    expect(run.loaded).toBe(true);
    expect(JSON.parse(readFileSync(join(run.outDir, 'sections.json'), 'utf8'))).toEqual(run.status.sections);
    const trigger = (ev: string) => run.sys.tfs.files.get(`${run.trace?.instance}/events/kmem/${ev}/trigger`);
    const moduleRange = '(call_site >= 0xffffffffc0a00000 && call_site < 0xffffffffc0a04000)';
    expect(trigger('kmalloc')).toBe(`stacktrace if ${moduleRange}\n`);
    expect(trigger('kfree')).toBe(`stacktrace if ${moduleRange}\n`);
    expect(run.undo.pending.filter((s) => s.kind === 'remove-trigger')).toHaveLength(3);
    expect(run.undo.pending.some((s) => s.kind === 'rmmod')).toBe(true);
  });

  test('an insmod that fails is load-failed with the kernel log, and nothing is left to rmmod', async () => {
    const sys = fakeTarget(undefined, { insmod: async () => commandResult(1, 'insmod: ERROR: could not insert module: Invalid parameters') });
    sys.kmsg.push('kni_like: Unknown parameter `bogus`');
    const run = await tracedRun(job(), sys);
    expect(await failure(load(run))).toEqual({
      status: 'load-failed',
      message: 'insmod kni_like failed: insmod: ERROR: could not insert module: Invalid parameters',
      excerpt: 'kni_like: Unknown parameter `bogus`',
    });
    expect(run.undo.pending.some((s) => s.kind === 'rmmod')).toBe(false);
  });
});

describe('cycles, unload and collect', () => {
  test('a workload that fails ends its cycle in the trace and fails the run with its tail', async () => {
    const sys = fakeTarget(undefined, {
      runCycle: async (_w, c) => {
        if (c === 2) throw new WorkloadFailure('workload-failed', 'the workload exited 3', 'error: no device', cycleRecord(2));
        return cycleRecord(c);
      },
    });
    const run = await tracedRun(job(), sys);
    expect(await failure(cycles(run))).toEqual({ status: 'workload-failed', message: 'the workload exited 3', excerpt: 'error: no device' });
    expect(sys.tfs.files.get(`${run.trace?.instance}/trace_marker`)).toBe('alloc-balance cycle=2 end');
  });

  test('an unload that fails is unload-failed and leaves the rmmod to the undo log', async () => {
    const sys = fakeTarget(undefined, { unloadModule: async () => ({ ok: false, why: 'Module kni_like is in use' }) });
    const run = await tracedRun(job(), sys);
    await load(run);
    await unload(run);
    expect(run.status.status).toBe('unload-failed');
    expect(run.status.reason).toBe('rmmod kni_like failed: Module kni_like is in use');
    expect(run.undo.pending.some((s) => s.kind === 'rmmod')).toBe(true);
  });

  test('a splat in the kernel log fails an ok run as kernel-splat', async () => {
    const sys = fakeTarget();
    const run = await tracedRun(job(), sys);
    sys.kmsg.push('BUG: kernel NULL pointer dereference, address: 0000000000000008', 'RIP: 0010:kni_like_open+0x12/0x40 [kni_like]');
    await collect(run);
    expect(run.status.status).toBe('kernel-splat');
    expect(run.status.files).toEqual(['slabinfo-before.txt', 'trace.txt', 'slabinfo-after.txt', 'dmesg.txt']);
  });
});

describe('runTargetJob', () => {
  test('runs the phases in order and leaves nothing to undo after an ok run', async () => {
    const sys = fakeTarget();
    const j = job();
    const r = await runTargetJob(j, { system: sys });
    expect(r.exitCode).toBe(0);
    expect(r.status.status).toBe('ok');
    expect(sys.calls.filter((c) => !c.startsWith('undo'))).toEqual(['insmod kni_like', 'cycle 1', 'cycle 2', 'rmmod kni_like']);
    expect(sys.undone.some((s) => s.kind === 'rmmod')).toBe(false);
    expect(sys.undone.map((s) => s.kind)).toContain('unlock');
    expect(JSON.parse(readFileSync(r.statusFile, 'utf8')).files).toEqual([
      'status.json',
      'slabinfo-before.txt',
      'sections.json',
      'workload-1.log',
      'workload-2.log',
      'trace.txt',
      'slabinfo-after.txt',
      'dmesg.txt',
    ]);
  });

  test('with the kernel-API helper: loaded before the module, read after load, each cycle and unload, then unloaded', async () => {
    const snapshot = 'overflow 0\nsite ffffffffc0a00040 cache allocs 1 frees 0 __alloc_skb\n';
    const base = fakeTarget();
    const sys = fakeTarget(undefined, { readProc: (file) => (file === 'ab_apiwatch' ? snapshot : base.readProc(file)) });
    const r = await runTargetJob({ ...job(), apiWatch: { helperPath: '/helpers/ab_apiwatch.ko' } }, { system: sys });
    expect(r.status.status).toBe('ok');
    expect(sys.calls.filter((c) => !c.startsWith('undo'))).toEqual([
      'insmod ab_apiwatch',
      'insmod kni_like',
      'cycle 1',
      'cycle 2',
      'rmmod kni_like',
      'rmmod ab_apiwatch',
    ]);
    expect(sys.undone.some((s) => s.kind === 'rmmod')).toBe(false);
    const files = r.status.files.filter((f) => f.startsWith('apiwatch-'));
    expect(files).toEqual(['apiwatch-load.txt', 'apiwatch-cycle-1.txt', 'apiwatch-cycle-2.txt', 'apiwatch-end.txt']);
    expect(readFileSync(join(dirname(r.statusFile), 'apiwatch-end.txt'), 'utf8')).toBe(snapshot);
  });

  test('a kernel-API helper that does not load is a note; the run goes on', async () => {
    const base = fakeTarget();
    const sys = fakeTarget(undefined, {
      insmod: async (path, args) =>
        path.endsWith('ab_apiwatch.ko') ? commandResult(1, 'insmod: ERROR: could not insert module: Invalid parameters') : base.insmod(path, args),
    });
    const r = await runTargetJob({ ...job(), apiWatch: { helperPath: '/helpers/ab_apiwatch.ko' } }, { system: sys });
    expect(r.status.status).toBe('ok');
    expect(r.status.notes).toContain(
      'memory from kernel APIs not watched: the helper did not load: insmod: ERROR: could not insert module: Invalid parameters',
    );
    expect(r.status.files.some((f) => f.startsWith('apiwatch-'))).toBe(false);
  });

  test('a workload failure still unloads, collects and restores; the runner itself did not fail', async () => {
    const sys = fakeTarget(undefined, {
      runCycle: async (_w, c) => {
        throw new WorkloadFailure('workload-not-ready', 'not ready within 60 s', '', cycleRecord(c));
      },
    });
    const r = await runTargetJob(job(), { system: sys });
    expect(r.status.status).toBe('workload-not-ready');
    expect(r.exitCode).toBe(0);
    expect(sys.calls).toContain('rmmod kni_like');
    expect(r.status.files).toContain('trace.txt');
  });

  test('an error no phase expected is an internal error of the set-up, and the runner fails', async () => {
    const sys = fakeTarget(undefined, {
      readSections: () => {
        throw new Error('EACCES /sys/module/kni_like/sections');
      },
    });
    const r = await runTargetJob(job(), { system: sys });
    expect(r.status.status).toBe('setup-failed');
    expect(r.status.reason).toBe('internal error: EACCES /sys/module/kni_like/sections');
    expect(r.exitCode).toBe(1);
    expect(sys.calls).toContain('rmmod kni_like');
  });
});
