// What a kernel-side run reads and changes on the machine, as one interface: the run's phases
// take it, so that each can be tested with a fake machine; MACHINE is the real one.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { CommandResult } from '../process/run.js';
import { readVermagic } from '../module-build/module-info.js';
import { type Background, startBackground } from './background.js';
import { readKprobeBlacklist } from './function-names.js';
import { prepareHugepages } from './hugepages.js';
import { bindNics, type NicBindingJob } from './nic-binding.js';
import type { TargetBackground, TargetWorkload } from './job.js';
import { insmod, isModuleLoaded, readSections, unloadModule } from './kernel-module.js';
import { formatKmsg, kmsgMark, readKmsg } from './kmsg.js';
import { acquireLock, type LockOwner } from './lock.js';
import { findTracefs, Tracefs } from './tracefs.js';
import { machineUndo } from './undo-executor.js';
import type { UndoExecutor, UndoLog } from './undo.js';
import { type CycleRecord, runCycle } from './workload.js';

export interface TargetSystem {
  /** `uname -r`. */
  kernelRelease(): string;
  /** A /proc file's text (procfs files report size 0: read, never copied). */
  readProc(file: 'slabinfo' | 'modules' | 'kallsyms' | 'ab_apiwatch' | 'vmallocinfo'): string;
  /** Opens tracefs (`tracefsRoot`, else wherever it is mounted). */
  tracefs(root?: string): Tracefs;
  readKprobeBlacklist(): string;
  acquireLock(path: string, runId: string): { staleTakenOver?: LockOwner };
  isModuleLoaded(name: string): boolean;
  readVermagic(ko: string): Promise<string>;
  insmod(path: string, args: string): Promise<CommandResult>;
  unloadModule(name: string): Promise<{ ok: true } | { ok: false; why: string }>;
  /** Section start addresses of the loaded module. */
  readSections(name: string): Record<string, string>;
  /** The /dev/kmsg position to read from later. */
  kmsgMark(): number;
  /** The kernel log after `mark`, one formatted record a line (a bracketed sentence when unreadable). */
  dmesg(mark: number): string;
  prepareHugepages(pages: number, runId: string, undo: UndoLog): Promise<string[]>;
  bindNics(job: NicBindingJob, undo: UndoLog): Promise<string[]>;
  startBackground(b: TargetBackground, outDir: string, undo: UndoLog, abort: AbortSignal): Promise<Background>;
  runCycle(w: TargetWorkload, cycle: number, outDir: string, undo: UndoLog, abort: AbortSignal, started: (record: CycleRecord) => void): Promise<CycleRecord>;
  undo: UndoExecutor;
}

export const MACHINE: TargetSystem = {
  kernelRelease: () => release(),
  readProc: (file) => readFileSync(`/proc/${file}`, 'utf8'),
  tracefs: (root) => new Tracefs(root ?? findTracefs()),
  readKprobeBlacklist: () => readKprobeBlacklist(),
  acquireLock: (path, runId) => acquireLock(path, runId),
  isModuleLoaded: (name) => isModuleLoaded(name),
  readVermagic,
  insmod: (path, args) => insmod(path, args),
  unloadModule: (name) => unloadModule(name),
  readSections: (name) => readSections(name),
  kmsgMark: () => kmsgMark(),
  dmesg: (mark) => {
    try {
      return readKmsg(mark).map(formatKmsg).join('\n');
    } catch (e) {
      return `[could not read /dev/kmsg: ${(e as Error).message}]`;
    }
  },
  prepareHugepages,
  bindNics,
  startBackground,
  runCycle,
  undo: machineUndo,
};
