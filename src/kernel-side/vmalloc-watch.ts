// /proc/vmallocinfo after load, after each cycle and after unload, narrowed to the module's areas
// (core/vmalloc-areas.ts reads the files): the witness for the vmalloc areas and I/O mappings of
// allocators a named track leaves out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleAreaLines, VMALLOC_FILE } from '../core/vmalloc-areas.js';
import { type SnapshotMoment, snapshotFile } from '../core/snapshot-files.js';
import type { TargetSystem } from './target-system.js';

export interface VmallocWatch {
  /** Writes one snapshot into outDir; returns its file name. */
  snapshot(which: SnapshotMoment): string;
}

export function watchVmallocAreas(sys: TargetSystem, module: string, outDir: string): VmallocWatch {
  // The ranges seen as the module's: after unload their callers print as raw addresses.
  const seen = new Set<string>();
  return {
    snapshot(which) {
      const file = snapshotFile(VMALLOC_FILE, which);
      writeFileSync(join(outDir, file), moduleAreaLines(sys.readProc('vmallocinfo'), module, seen));
      return file;
    },
  };
}
