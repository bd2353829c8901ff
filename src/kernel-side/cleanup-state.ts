// `alloc-balance target cleanup --state FILE`: finishes restoring the machine after a runner
// that was killed before it could (the action's post step calls it).
import { rmSync, writeFileSync } from 'node:fs';
import { sleep } from './abortable.js';
import { processAlive } from './lock.js';
import { machineUndo } from './undo-executor.js';
import { readUndoState, undoStepsReporting, type UndoExecutor } from './undo.js';

interface CleanupResult {
  /** Nothing to do: no state file (the runner finished its own restore). */
  nothingToDo: boolean;
  undone: number;
  problems: string[];
  notes: string[];
}

export async function cleanupFromState(file: string, opts: { waitSeconds?: number; exec?: UndoExecutor } = {}): Promise<CleanupResult> {
  const state = readUndoState(file);
  if (!state) return { nothingToDo: true, undone: 0, problems: [], notes: [] };
  const notes: string[] = [];
  if (state.pid !== process.pid && processAlive(state.pid)) {
    // The runner is still there: let it restore things itself first.
    notes.push(`runner pid ${state.pid} was still running: sent SIGTERM`);
    try {
      process.kill(state.pid, 'SIGTERM');
    } catch {
      /* gone meanwhile */
    }
    const end = Date.now() + (opts.waitSeconds ?? 60) * 1000;
    while (Date.now() < end && processAlive(state.pid)) await sleep(200);
    if (processAlive(state.pid)) {
      notes.push(`runner pid ${state.pid} did not stop: sent SIGKILL`);
      try {
        process.kill(state.pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
      await sleep(500);
    }
    // It may have finished the job and removed the file.
    const again = readUndoState(file);
    if (!again) return { nothingToDo: false, undone: 0, problems: [], notes: [...notes, 'the runner restored everything itself'] };
    state.steps = again.steps;
  }
  const { problems, failed } = await undoStepsReporting(state.steps, opts.exec ?? machineUndo);
  if (failed.length === 0) rmSync(file, { force: true });
  else writeFileSync(file, `${JSON.stringify({ ...state, steps: failed }, null, 2)}\n`);
  return { nothingToDo: false, undone: state.steps.length, problems, notes };
}
