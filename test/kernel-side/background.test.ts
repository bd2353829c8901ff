// The background command with real processes: settled before the run, stopped like a workload.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BACKGROUND_LOG, startBackground } from '../../src/kernel-side/background.js';
import type { TargetBackground } from '../../src/kernel-side/job.js';
import { readUndoState, UndoLog } from '../../src/kernel-side/undo.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-background-');
const never = new AbortController().signal;

function background(command: string, graceSeconds = 2): TargetBackground {
  return { command, cwd: work, env: {}, settleSeconds: 0.3, stopSignal: 'SIGTERM', graceSeconds };
}

describe('startBackground', () => {
  test('a command that ignores the stop signal is SIGKILLed after the grace time; nothing survives, nothing left to undo', async () => {
    const stateFile = join(work, 'ignores.json');
    const undo = new UndoLog(stateFile, 'ignores');
    const b = await startBackground(background(`trap '' TERM; echo churning; sleep 30 & wait`, 0.5), work, undo, never);
    expect(b.exit).toBeNull();
    const stop = await b.stop();
    expect(stop).toMatchObject({ exitedEarly: false, killed: true, survived: false });
    expect(readFileSync(join(work, BACKGROUND_LOG), 'utf8')).toContain('churning');
    expect(readUndoState(stateFile)?.steps ?? []).toEqual([]);
  });

  test('a command that ends during the settle time says so, with its exit code', async () => {
    const undo = new UndoLog(join(work, 'early.json'), 'early');
    const b = await startBackground(background('exit 3'), work, undo, never);
    expect(b.exit).toEqual({ code: 3, signal: null });
    const stop = await b.stop();
    expect(stop).toMatchObject({ exitedEarly: true, exitCode: 3, killed: false, survived: false });
    expect(existsSync(join(work, BACKGROUND_LOG))).toBe(true);
  });

  test('a command that obeys the stop signal is not killed', async () => {
    const undo = new UndoLog(join(work, 'obeys.json'), 'obeys');
    const b = await startBackground(background(`trap 'exit 0' TERM; sleep 30 & wait`), work, undo, never);
    const stop = await b.stop();
    expect(stop).toMatchObject({ exitedEarly: false, killed: false, survived: false, exitCode: 0 });
  });
});
