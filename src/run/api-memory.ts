// The host's part of the memory the trace cannot pair by itself: the apiwatch helper module to
// build, and its snapshots read back (core/api-memory.ts turns them into pairs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_WATCH_FILE, type ApiMemoryInput, apiMemoryPairs, apiMemoryProblems, parseApiWatch } from '../core/api-memory.js';
import type { AnalysisResult } from '../core/model.js';
import type { ModuleMap } from '../core/module-map.js';
import { API_WATCH_MODULE } from '../kernel-side/api-watch.js';
import type { HelperModule } from './helper-modules.js';

export const API_WATCH: HelperModule = { folder: 'apiwatch', name: API_WATCH_MODULE, what: 'the kernel-API memory helper' };

/**
 * The snapshots of a run whose module loaded, ran every cycle and unloaded; null when the
 * helper did not run or a snapshot is missing (a run that stopped early says so itself).
 */
function readApiMemory(outDir: string, files: string[], cycles: number): ApiMemoryInput | null {
  const names = [API_WATCH_FILE.load, ...Array.from({ length: cycles }, (_, i) => API_WATCH_FILE.cycle(i + 1))];
  if (!names.every((f) => files.includes(f) && existsSync(join(outDir, f)))) return null;
  const read = (f: string) => parseApiWatch(readFileSync(join(outDir, f), 'utf8'));
  const [afterLoad, ...afterCycles] = names.map(read);
  const end = files.includes(API_WATCH_FILE.end) ? read(API_WATCH_FILE.end) : undefined;
  return { afterLoad, afterCycles, ...(end ? { end } : {}) };
}

/**
 * What the trace cannot pair by itself, added to a side's analysis from the apiwatch helper's
 * snapshots, when it ran: with track: auto the memory kernel APIs allocate for the module; with
 * named pairs, the objects of the allocators they leave out (`leftOut`). `files`: status.json's list.
 */
export function addUntracedMemory(analysis: AnalysisResult, outDir: string, files: string[], cycles: number, map: ModuleMap, leftOut?: string[]): void {
  const apiMemory = readApiMemory(outDir, files, cycles);
  if (!apiMemory) return;
  analysis.pairs.push(...apiMemoryPairs(apiMemory, map, leftOut ? new Set(leftOut) : undefined));
  analysis.problems.push(...apiMemoryProblems(apiMemory));
}
