// outDir/status.json: how the kernel-side run went, before any analysis of the trace.
import type { PairSpec, RunStatus } from '../core/model.js';
import type { CycleRecord } from './workload.js';
import type { TracedPair } from './trace-setup.js';

export interface TargetStatus {
  schema: 'alloc-balance/target-status@1';
  status: RunStatus;
  /** One line: why the run is not `ok`. */
  reason?: string;
  /** dmesg excerpt, workload output tail or command output behind `reason`. */
  logExcerpt?: string;
  timings: {
    setup: number;
    load: number;
    cycles: CycleRecord[];
    unload: number;
    collect: number;
    total: number;
  };
  /** `uname -r` of the kernel the run used. */
  kernel: string;
  module: { name: string; path: string; args: string; vermagic: string };
  /** Section start addresses while the module was loaded (also in sections.json). */
  sections: Record<string, string>;
  tracing: {
    instance: string;
    group: string;
    pairs: TracedPair[];
    /** The pairs as traced: the analysis reads the trace with these. */
    track: PairSpec[];
    functionTracer: boolean;
    kmemEvents: string[];
    traceBufferKb: number;
    stacks: boolean;
  } | null;
  /** Files written in outDir (names relative to it). */
  files: string[];
  /** The job's countCalls: calls of each function during load, cycles and unload, and during the error-path sweep. */
  calls?: { cycles: Record<string, number>; sweep?: Record<string, number>; refused?: string[] };
  /**
   * `running`: this status was written before the error-path sweep began, with the cycles'
   * results complete; a run that ends with it (the kernel died in the sweep) keeps them.
   */
  errorSweep?: 'running' | 'done';
  /** Things worth knowing that did not change the status (stale lock taken over, hidden addresses). */
  notes: string[];
  /** Changes the run could not undo; non-empty means `target cleanup --state` must be run. */
  restoreProblems: string[];
  startedAt: string;
  finishedAt: string;
}
