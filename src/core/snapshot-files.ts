// What a run's snapshots of the module's memory are (the apiwatch helper's objects, the module's
// lines of /proc/vmallocinfo): one file after load, after each cycle and after unload.

/** When a snapshot was taken: after load, after cycle n, after unload. */
export type SnapshotMoment = 'load' | number | 'end';

/** A run's snapshots, read: after the module loaded (cycle 0), after each cycle in order, after unload (absent when it could not be unloaded). */
export interface Snapshots<T> {
  afterLoad: T;
  afterCycles: T[];
  end?: T;
}

export interface SnapshotFiles {
  load: string;
  cycle: (n: number) => string;
  end: string;
}

/** The files of a kind of snapshot: `<prefix>-load.txt`, `<prefix>-cycle-3.txt`, `<prefix>-end.txt`. */
export function snapshotFiles(prefix: string): SnapshotFiles {
  return { load: `${prefix}-load.txt`, cycle: (n) => `${prefix}-cycle-${n}.txt`, end: `${prefix}-end.txt` };
}

export function snapshotFile(files: SnapshotFiles, which: SnapshotMoment): string {
  return which === 'load' ? files.load : which === 'end' ? files.end : files.cycle(which);
}
