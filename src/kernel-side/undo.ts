// Everything the runner changes on the machine is recorded here first, as a step that undoes
// it, and saved to a state file after every change: the runner undoes the steps in reverse
// at the end (also on failure and on SIGTERM/SIGINT), and `alloc-balance target cleanup
// --state FILE` finishes the job when the runner was killed before it could.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';

export type UndoStep =
  /** Write `value` back to a file (tracefs setting, /proc/sys/vm/nr_hugepages). */
  | { kind: 'restore-file'; path: string; value: string }
  /** Remove a directory (a trace instance). */
  | { kind: 'rmdir'; path: string }
  /** `-:GROUP/EVENT` into kprobe_events. */
  | { kind: 'remove-kprobe'; kprobeEvents: string; event: string }
  /** Remove a trigger from an event: `!TRIGGER` into its trigger file. */
  | { kind: 'remove-trigger'; path: string; trigger: string }
  /** SIGKILL a process group that must not outlive the run. */
  | { kind: 'kill-group'; pgid: number }
  /** rmmod a module the run loaded. */
  | { kind: 'rmmod'; name: string }
  /** Unmount a filesystem the run mounted (hugetlbfs). */
  | { kind: 'umount'; path: string }
  /** Remove a lock file the run holds. */
  | { kind: 'unlock'; path: string; pid: number }
  /** Unbind a PCI device from `driver` (when it is bound to it) and clear its driver_override. */
  | { kind: 'pci-unbind'; address: string; driver: string }
  /** Bind a PCI device back to the driver it had (when it is bound to none). */
  | { kind: 'pci-bind'; address: string; driver: string };

interface UndoState {
  schema: 'alloc-balance/target-undo@1';
  /** The runner that made the changes. */
  pid: number;
  runId: string;
  steps: UndoStep[];
}

export class UndoLog {
  private readonly steps: UndoStep[] = [];

  constructor(
    private readonly file: string,
    private readonly runId: string,
    private readonly pid = process.pid,
  ) {}

  /** Records a step before the change it undoes is made (undoing a change not made is harmless). */
  push(step: UndoStep): void {
    this.steps.push(step);
    this.save();
  }

  /** Forgets the latest step matching `match` (its change was undone in the normal course). */
  drop(match: (s: UndoStep) => boolean): void {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      if (match(this.steps[i])) {
        this.steps.splice(i, 1);
        break;
      }
    }
    this.save();
  }

  get pending(): readonly UndoStep[] {
    return this.steps;
  }

  private save(): void {
    const state: UndoState = { schema: 'alloc-balance/target-undo@1', pid: this.pid, runId: this.runId, steps: this.steps };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(tmp, this.file);
  }

  /**
   * Runs every step in reverse; returns what could not be undone. Removes the state file when
   * all went well, else keeps the failed steps in it for `target cleanup`.
   */
  async undoAll(exec: UndoExecutor): Promise<string[]> {
    const { problems, failed } = await undoStepsReporting(this.steps.slice(), exec);
    this.steps.splice(0, this.steps.length, ...failed);
    if (failed.length === 0) rmSync(this.file, { force: true });
    else this.save();
    return problems;
  }
}

/** The actions an undo needs; the runner's real ones live in undo-executor.ts. */
export interface UndoExecutor {
  run(step: UndoStep): Promise<void>;
}

/** Runs the steps last first; every step runs even when an earlier one failed. */
export async function undoStepsReporting(steps: UndoStep[], exec: UndoExecutor): Promise<{ problems: string[]; failed: UndoStep[] }> {
  const problems: string[] = [];
  const failed: UndoStep[] = [];
  for (const step of steps.slice().reverse()) {
    try {
      await exec.run(step);
    } catch (e) {
      problems.push(`${describeStep(step)}: ${(e as Error).message}`);
      failed.unshift(step);
    }
  }
  return { problems, failed };
}

function describeStep(step: UndoStep): string {
  switch (step.kind) {
    case 'restore-file':
      return `restore ${step.path}`;
    case 'rmdir':
      return `remove ${step.path}`;
    case 'remove-kprobe':
      return `remove kprobe event ${step.event}`;
    case 'remove-trigger':
      return `remove trigger ${step.trigger} from ${step.path}`;
    case 'kill-group':
      return `kill process group ${step.pgid}`;
    case 'rmmod':
      return `unload module ${step.name}`;
    case 'umount':
      return `unmount ${step.path}`;
    case 'unlock':
      return `release lock ${step.path}`;
    case 'pci-unbind':
      return `unbind ${step.address} from ${step.driver}`;
    case 'pci-bind':
      return `bind ${step.address} back to ${step.driver}`;
  }
}

export function readUndoState(file: string): UndoState | null {
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`cleanup state ${file} is not valid JSON (${(e as Error).message})`);
  }
  const s = parsed as Partial<UndoState>;
  if (s?.schema !== 'alloc-balance/target-undo@1' || !Array.isArray(s.steps) || typeof s.pid !== 'number') {
    throw new UsageError(`cleanup state ${file} is not an alloc-balance target state file`);
  }
  return s as UndoState;
}
