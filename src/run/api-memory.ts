// The host's part of the memory the trace cannot pair by itself: the apiwatch helper module to
// build, and its snapshots and those of /proc/vmallocinfo read back (core/api-memory.ts and
// core/vmalloc-areas.ts turn them into pairs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_WATCH_FILE, apiMemoryPairs, apiMemoryProblems, parseApiWatch } from '../core/api-memory.js';
import type { SnapshotFiles, Snapshots } from '../core/snapshot-files.js';
import type { AnalysisResult } from '../core/model.js';
import { VMALLOC_FILE, vmallocAreaPairs, vmallocWitnessed } from '../core/vmalloc-areas.js';
import type { ModuleMap } from '../core/module-map.js';
import { API_WATCH_MODULE } from '../kernel-side/api-watch.js';
import type { HelperModule } from './helper-modules.js';

export const API_WATCH: HelperModule = { folder: 'apiwatch', name: API_WATCH_MODULE, what: 'the kernel-API memory helper' };

/**
 * The snapshots of a run whose module loaded, ran every cycle and unloaded; null when they were
 * not taken or one is missing (a run that stopped early says so itself). `files`: status.json's list.
 */
function readSnapshots<T>(outDir: string, files: string[], cycles: number, kind: SnapshotFiles, parse: (text: string) => T): Snapshots<T> | null {
  const names = [kind.load, ...Array.from({ length: cycles }, (_, i) => kind.cycle(i + 1))];
  if (!names.every((f) => files.includes(f) && existsSync(join(outDir, f)))) return null;
  const read = (f: string) => parse(readFileSync(join(outDir, f), 'utf8'));
  const [afterLoad, ...afterCycles] = names.map(read);
  return { afterLoad, afterCycles, ...(files.includes(kind.end) ? { end: read(kind.end) } : {}) };
}

/** The note for a named track that leaves allocators out: who counts their objects, if anyone. */
export function leftOutNote(leftOut: string[]): string {
  const areas = vmallocWitnessed(leftOut);
  const objects = leftOut.filter((a) => !areas.includes(a));
  const how = [
    ...(objects.length ? [`the slab objects of ${objects.join(', ')} are counted by address in the kernel`] : []),
    ...(areas.length ? [`the areas of ${areas.join(', ')} by /proc/vmallocinfo`] : []),
  ];
  return `track leaves out allocators the module imports: ${leftOut.join(', ')}; ${how.join(', ')}`;
}

/**
 * What the trace cannot pair by itself, added to a side's analysis from the apiwatch helper's
 * snapshots, when it ran: with track: auto the memory kernel APIs allocate for the module; with
 * named pairs, the objects of the allocators they leave out (`leftOut`), the vmalloc areas and I/O
 * mappings among them from /proc/vmallocinfo (the helper would count only their bookkeeping
 * objects, vm_struct and vmap_area). `files`: status.json's list.
 */
export function addUntracedMemory(analysis: AnalysisResult, outDir: string, files: string[], cycles: number, map: ModuleMap, leftOut?: string[]): void {
  const areas = leftOut ? readSnapshots(outDir, files, cycles, VMALLOC_FILE, (text) => text) : null;
  const byArea = areas && leftOut ? vmallocWitnessed(leftOut) : [];
  if (areas && leftOut) analysis.pairs.push(...vmallocAreaPairs(areas, map, byArea));
  const apiMemory = readSnapshots(outDir, files, cycles, API_WATCH_FILE, parseApiWatch);
  if (!apiMemory) return;
  const bySlab = leftOut?.filter((a) => !byArea.includes(a));
  analysis.pairs.push(...apiMemoryPairs(apiMemory, map, bySlab ? new Set(bySlab) : undefined));
  analysis.problems.push(...apiMemoryProblems(apiMemory));
}
