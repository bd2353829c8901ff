// The undo log and `target cleanup` on real files and real processes (no kernel needed), and
// the run lock.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cleanupFromState } from '../../src/kernel-side/cleanup-state.js';
import { acquireLock, LockBusyError, releaseLock } from '../../src/kernel-side/lock.js';
import { groupAlive } from '../../src/process/group.js';
import { machineUndo } from '../../src/kernel-side/undo-executor.js';
import { readUndoState, UndoLog } from '../../src/kernel-side/undo.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-undo-test-');

/** A detached `sleep` in its own process group, like a workload. */
function detachedSleep(): number {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

describe('UndoLog', () => {
  test('persists every step at once and undoes them in reverse; the state file goes when all went well', async () => {
    const file = join(work, 'a', 'state.json');
    const setting = join(work, 'a-setting');
    const dir = join(work, 'a-instance');
    writeFileSync(setting, 'function');
    const log = new UndoLog(file, 'r1');
    log.push({ kind: 'rmdir', path: dir });
    mkdirSync(dir);
    log.push({ kind: 'restore-file', path: setting, value: 'nop' });
    const pgid = detachedSleep();
    log.push({ kind: 'kill-group', pgid });
    expect(readUndoState(file)).toEqual({
      schema: 'alloc-balance/target-undo@1',
      pid: process.pid,
      runId: 'r1',
      steps: [
        { kind: 'rmdir', path: dir },
        { kind: 'restore-file', path: setting, value: 'nop' },
        { kind: 'kill-group', pgid },
      ],
    });
    expect(await log.undoAll(machineUndo)).toEqual([]);
    expect(readFileSync(setting, 'utf8')).toBe('nop');
    expect(existsSync(dir)).toBe(false);
    expect(groupAlive(pgid)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  test('a step that fails is reported and kept in the state file; the others still run', async () => {
    const file = join(work, 'b', 'state.json');
    const dir = join(work, 'b-busy');
    mkdirSync(join(dir, 'inside'), { recursive: true }); // rmdir of a non-empty dir fails
    const setting = join(work, 'b-setting');
    writeFileSync(setting, '1');
    const log = new UndoLog(file, 'r2');
    log.push({ kind: 'restore-file', path: setting, value: '0' });
    log.push({ kind: 'rmdir', path: dir });
    const problems = await log.undoAll({
      run: async (s) => {
        if (s.kind === 'rmdir')
          rmSync(s.path); // fails: a directory
        else await machineUndo.run(s);
      },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^remove ${dir}: `));
    expect(readFileSync(setting, 'utf8')).toBe('0');
    // Only the failed step is left for `target cleanup` to retry.
    expect(readUndoState(file)?.steps).toEqual([{ kind: 'rmdir', path: dir }]);
  });
});

describe('target cleanup --state', () => {
  test('finishes the undo of a runner that was killed, and says when there is nothing to do', async () => {
    const file = join(work, 'c', 'state.json');
    mkdirSync(join(work, 'c'));
    const lock = join(work, 'c', 'lock');
    const pgid = detachedSleep();
    // The state a SIGKILLed runner leaves: its pid is gone.
    const dead = spawn('true');
    await new Promise((r) => dead.on('close', r));
    writeFileSync(lock, `${dead.pid} c\n`);
    writeFileSync(
      file,
      JSON.stringify({
        schema: 'alloc-balance/target-undo@1',
        pid: dead.pid,
        runId: 'c',
        steps: [
          { kind: 'unlock', path: lock, pid: dead.pid },
          { kind: 'kill-group', pgid },
        ],
      }),
    );
    const r = await cleanupFromState(file);
    expect(r).toEqual({ nothingToDo: false, undone: 2, problems: [], notes: [] });
    expect(groupAlive(pgid)).toBe(false);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(file)).toBe(false);
    expect(await cleanupFromState(file)).toEqual({ nothingToDo: true, undone: 0, problems: [], notes: [] });
  });

  test('a state file that is not one is refused clearly', async () => {
    const file = join(work, 'not-state.json');
    writeFileSync(file, '{"hello": 1}');
    await expect(cleanupFromState(file)).rejects.toThrow(`cleanup state ${file} is not an alloc-balance target state file`);
  });
});

describe('run lock', () => {
  test('exclusive while the owner lives; a stale lock of a dead owner is taken over', async () => {
    const lock = join(work, 'locks', 'lock');
    expect(acquireLock(lock, 'first')).toEqual({});
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} first\n`);
    const other = spawn('sleep', ['30']);
    try {
      expect(() => acquireLock(lock, 'second', other.pid)).toThrow(LockBusyError);
      expect(() => acquireLock(lock, 'second', other.pid)).toThrow(`another alloc-balance run (pid ${process.pid}, run first) holds ${lock}`);
    } finally {
      other.kill('SIGKILL');
    }
    releaseLock(lock, 12345678); // not the owner: stays
    expect(existsSync(lock)).toBe(true);
    releaseLock(lock);
    expect(existsSync(lock)).toBe(false);

    const dead = spawn('true');
    await new Promise((r) => dead.on('close', r));
    writeFileSync(lock, `${dead.pid} crashed\n`);
    expect(acquireLock(lock, 'third')).toEqual({ staleTakenOver: { pid: dead.pid, runId: 'crashed' } });
    releaseLock(lock);
  });
});
