// The apiwatch helper on the target kernel (kmod/apiwatch/ab_apiwatch.c): loaded before the module
// under test so that its init is watched too, read after load, after each cycle and after
// unload (core/api-memory.ts reads the files), unloaded once the last snapshot is taken.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_WATCH_FILE } from '../core/api-memory.js';
import { type SnapshotMoment, snapshotFile } from '../core/snapshot-files.js';
import { symbolRanges } from './kernel-module.js';
import type { TargetSystem } from './target-system.js';
import type { UndoLog } from './undo.js';

export const API_WATCH_MODULE = 'ab_apiwatch';

export interface ApiWatch {
  /** Writes one snapshot into outDir; returns its file name. */
  snapshot(which: SnapshotMoment): string;
  /** Unloads the helper (also left to the undo log when this is never called). */
  stop(): Promise<void>;
}

/**
 * Loads the helper for `target` (with `own`, the module's own allocations too). `stackAttributed` are the allocation helpers (kasprintf) whose
 * objects the trace already attributes by stack: the helper leaves their call sites alone.
 * Returns a reason instead when it cannot be loaded (the run goes on without it).
 */
export async function startApiWatch(
  sys: TargetSystem,
  helper: { helperPath: string; own?: boolean },
  target: string,
  stackAttributed: string[],
  undo: UndoLog,
  outDir: string,
): Promise<ApiWatch | string> {
  const skip = stackAttributed.length > 0 ? symbolRanges(sys.readProc('kallsyms'), stackAttributed) : [];
  const args = [`target=${target}`, ...(helper.own ? ['own=1'] : [])];
  if (skip.length > 0) args.push(`skip=${skip.map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`).join(',')}`);
  undo.push({ kind: 'rmmod', name: API_WATCH_MODULE });
  const r = await sys.insmod(helper.helperPath, args.join(' '));
  if (r.code !== 0) {
    undo.drop((s) => s.kind === 'rmmod' && s.name === API_WATCH_MODULE);
    return (r.stderr || r.stdout).trim() || r.error || `insmod exit ${r.code}`;
  }
  return {
    snapshot(which) {
      const file = snapshotFile(API_WATCH_FILE, which);
      writeFileSync(join(outDir, file), sys.readProc(API_WATCH_MODULE));
      return file;
    },
    async stop() {
      const u = await sys.unloadModule(API_WATCH_MODULE);
      if (u.ok) undo.drop((s) => s.kind === 'rmmod' && s.name === API_WATCH_MODULE);
    },
  };
}
