// Workload cycles with real processes (no kernel needed): readiness by pattern, command and
// delay; not-ready when it exits or times out; the whole process group stopped, SIGKILL after
// the grace time; an abort during the hold.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { TargetWorkload } from '../../src/kernel-side/job.js';
import { groupAlive, listProcesses } from '../../src/process/group.js';
import { readUndoState, UndoLog } from '../../src/kernel-side/undo.js';
import { failureLine, readiness, runCycle, WorkloadFailure } from '../../src/kernel-side/workload.js';
import { RunAborted } from '../../src/kernel-side/abortable.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-workload-test-');

function workload(over: Partial<TargetWorkload>): TargetWorkload {
  return {
    command: 'true',
    readyPattern: '',
    readyCommand: '',
    readyDelaySeconds: 0,
    readyTimeoutSeconds: 5,
    holdSeconds: 0.2,
    stopSignal: 'SIGTERM',
    graceSeconds: 2,
    cwd: work,
    env: {},
    ...over,
  };
}

function freshDir(name: string): { dir: string; undo: UndoLog; stateFile: string } {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, 'state.json');
  return { dir, undo: new UndoLog(stateFile, name), stateFile };
}

const never = new AbortController().signal;

describe('runCycle', () => {
  test('ready on the pattern, held, stopped with the stop signal; output captured; nothing left', async () => {
    const { dir, undo, stateFile } = freshDir('pattern');
    const w = workload({
      command: `trap 'echo got-term; exit 0' TERM; echo starting; sleep 0.3; echo "port up"; echo ready; sleep 30 & wait`,
      readyPattern: '^ready$',
      env: { AB_MARK: 'x' },
    });
    const r = await runCycle(w, 1, dir, undo, never);
    expect(r.readySeconds).toBeGreaterThanOrEqual(0.3);
    expect(r.readySeconds).toBeLessThan(2);
    expect(r.heldSeconds).toBeGreaterThanOrEqual(0.2);
    expect(r.killed).toBe(false);
    expect(r.exitedDuringHold).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'workload-1.log'), 'utf8')).toBe('starting\nport up\nready\ngot-term\n');
    // The kill-group step was recorded while it ran and dropped once the group was gone.
    expect(readUndoState(stateFile)?.steps).toEqual([]);
  });

  test('a workload that ignores the stop signal is SIGKILLed with its children after the grace time', async () => {
    const { dir, undo } = freshDir('stubborn');
    const w = workload({
      command: `trap '' TERM; sh -c "trap '' TERM; echo child \\$\\$; sleep 30" & echo ready; wait`,
      readyPattern: 'child \\d+',
      graceSeconds: 0.5,
    });
    const r = await runCycle(w, 2, dir, undo, never);
    expect(r.killed).toBe(true);
    expect(r.stopSeconds).toBeGreaterThanOrEqual(0.5);
    const childPid = Number(/child (\d+)/.exec(readFileSync(join(dir, 'workload-2.log'), 'utf8'))?.[1]);
    expect(childPid).toBeGreaterThan(0);
    expect(listProcesses().some((p) => p.pid === childPid && p.state !== 'Z')).toBe(false);
  });

  test('ready by a polled command, and by the delay', async () => {
    const { dir, undo } = freshDir('command');
    const flag = join(dir, 'up');
    const byCommand = await runCycle(workload({ command: `sleep 0.5; touch ${flag}; sleep 30`, readyCommand: `test -e ${flag}` }), 1, dir, undo, never);
    expect(byCommand.readySeconds).toBeGreaterThanOrEqual(0.5);
    expect(byCommand.readySeconds).toBeLessThan(2);
    const byDelay = await runCycle(workload({ command: 'sleep 30', readyDelaySeconds: 0.4 }), 2, dir, undo, never);
    expect(byDelay.readySeconds).toBeGreaterThanOrEqual(0.4);
    expect(byDelay.exitSignal).toBe('SIGTERM');
  });

  test('exiting before ready is workload-not-ready with the output tail', async () => {
    const { dir, undo } = freshDir('exits');
    const err = await runCycle(workload({ command: 'echo "cannot open /dev/kni_like" >&2; exit 3', readyPattern: 'ready' }), 1, dir, undo, never).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(WorkloadFailure);
    expect(err.status).toBe('workload-not-ready');
    expect(err.message).toBe('cycle 1: the workload exited with code 3 before it was ready (it said: cannot open /dev/kni_like)');
    expect(err.logTail).toBe('cannot open /dev/kni_like');
    expect(err.record.exitCode).toBe(3);
  });

  test('no ready line within the timeout is workload-not-ready, and the workload is stopped', async () => {
    const { dir, undo } = freshDir('timeout');
    const t = Date.now();
    const pidFile = join(dir, 'pid');
    const w = workload({ command: `echo $$ > ${pidFile}; echo "waiting for hugepages"; exec sleep 30`, readyPattern: '^ready$', readyTimeoutSeconds: 0.6 });
    const err = await runCycle(w, 4, dir, undo, never).catch((e) => e);
    expect(err).toBeInstanceOf(WorkloadFailure);
    expect(err.message).toBe('cycle 4: the workload printed nothing matching /^ready$/ within 0.6 s');
    expect(err.logTail).toBe('waiting for hugepages');
    expect(Date.now() - t).toBeLessThan(4000);
    expect(groupAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  test('an abort during the hold stops the workload group and rejects with the reason', async () => {
    const { dir, undo, stateFile } = freshDir('abort');
    const controller = new AbortController();
    const pidFile = join(dir, 'pid');
    const run = runCycle(
      workload({ command: `echo $$ > ${pidFile}; echo ready; exec sleep 30`, readyPattern: 'ready', holdSeconds: 30 }),
      1,
      dir,
      undo,
      controller.signal,
    );
    for (let i = 0; i < 50 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    controller.abort(new RunAborted('cancelled', 'cancelled by the test'));
    await expect(run).rejects.toThrow('cancelled by the test');
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    expect(groupAlive(pgid)).toBe(false);
    expect(readUndoState(stateFile)?.steps).toEqual([]);
  });
});

describe('failureLine', () => {
  test('the first complaint of a real DPDK start without hugepages, else the last line', () => {
    const eal = [
      'EAL: Detected CPU lcores: 2',
      'EAL: Detected NUMA nodes: 1',
      'EAL: Detected static linkage of DPDK',
      'EAL: Multi-process socket /var/run/dpdk/rte/mp_socket',
      "EAL: Selected IOVA mode 'PA'",
      'EAL: FATAL: Cannot get hugepage information.',
      'EAL: Cannot get hugepage information.',
      'EAL: Error - exiting with code: 1',
      '  Cause: Could not initialise EAL (-1)',
      '',
    ].join('\n');
    expect(failureLine(eal)).toBe('EAL: FATAL: Cannot get hugepage information.');
    expect(failureLine('created 2 ports\nkni_like_app: --exit-now: exiting before ready\n')).toBe('kni_like_app: --exit-now: exiting before ready');
    expect(failureLine('')).toBe('');
  });
});

describe('readiness', () => {
  const watching = { patternSeen: false, secondsSinceStart: 0.4, exit: null, timedOut: false };

  test('ready by the pattern, by the delay when there is neither pattern nor command, never by the delay otherwise', () => {
    expect(readiness(workload({ readyPattern: '^ready' }), 1, { ...watching, patternSeen: true })).toBe('ready');
    expect(readiness(workload({ readyPattern: '^ready', readyDelaySeconds: 0 }), 1, watching)).toBe('wait');
    expect(readiness(workload({ readyDelaySeconds: 0.5 }), 1, watching)).toBe('wait');
    expect(readiness(workload({ readyDelaySeconds: 0.4 }), 1, watching)).toBe('ready');
    expect(readiness(workload({ readyCommand: 'ip link show vEth0' }), 1, { ...watching, secondsSinceStart: 9 })).toBe('wait');
  });

  test('not ready when it ended first, or when the time ran out, saying which', () => {
    const pattern = workload({ readyPattern: '^ready', readyTimeoutSeconds: 60 });
    expect(readiness(pattern, 2, { ...watching, exit: { code: 3, signal: null } })).toEqual({
      notReady: 'cycle 2: the workload exited with code 3 before it was ready',
    });
    expect(readiness(pattern, 2, { ...watching, exit: { code: null, signal: 'SIGSEGV' } })).toEqual({
      notReady: 'cycle 2: the workload was killed by SIGSEGV before it was ready',
    });
    expect(readiness(pattern, 2, { ...watching, timedOut: true })).toEqual({ notReady: 'cycle 2: the workload printed nothing matching /^ready/ within 60 s' });
    expect(readiness(workload({ readyCommand: 'test -e /dev/kni', readyTimeoutSeconds: 5 }), 1, { ...watching, timedOut: true })).toEqual({
      notReady: 'cycle 1: the workload `test -e /dev/kni` never succeeded within 5 s',
    });
  });
});
