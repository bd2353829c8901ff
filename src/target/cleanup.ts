// `alloc-balance target cleanup --state FILE`: finishes restoring the machine after a runner
// that was killed before it could (the action's post step calls it).
import { rmSync } from 'node:fs';
import { sleep } from './abortable.js';
import { processAlive } from './lock.js';
import { machineUndo } from './undo-executor.js';
import { readUndoState, undoSteps, type UndoExecutor } from './undo.js';

export interface CleanupResult {
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
  const problems = await undoSteps(state.steps.slice(), opts.exec ?? machineUndo);
  if (problems.length === 0) rmSync(file, { force: true });
  return { nothingToDo: false, undone: state.steps.length, problems, notes };
}
