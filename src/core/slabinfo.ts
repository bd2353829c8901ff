// /proc/slabinfo snapshots and the change of each cache between two of them: a coarse symptom
// and a cross-check (whole slabs, RCU-delayed frees, other users), never the verdict.
import type { SlabDelta } from './model.js';

/** Active objects per cache of one snapshot. */
export type SlabSnapshot = Map<string, number>;

/**
 * Parses a text holding one or more snapshots, each starting with `slabinfo - version:`
 * (a text with rows but no version header counts as one snapshot).
 */
export function parseSlabinfo(text: string): SlabSnapshot[] {
  const snapshots: SlabSnapshot[] = [];
  let current: SlabSnapshot | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('slabinfo - version')) {
      current = new Map();
      snapshots.push(current);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    if (f.length < 6 || f[6] !== ':' || !/^\d+$/.test(f[1])) continue;
    if (!current) {
      current = new Map();
      snapshots.push(current);
    }
    current.set(f[0], Number(f[1]));
  }
  if (snapshots.length === 0) throw new Error('no slabinfo row: not a /proc/slabinfo snapshot');
  return snapshots;
}

/** Caches whose active objects changed, largest growth first. */
export function slabDelta(before: SlabSnapshot, after: SlabSnapshot): SlabDelta[] {
  const rows: SlabDelta[] = [];
  for (const cache of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(cache) ?? 0;
    const a = after.get(cache) ?? 0;
    if (a !== b) rows.push({ cache, before: b, after: a, delta: a - b });
  }
  return rows.sort((x, y) => y.delta - x.delta || x.cache.localeCompare(y.cache));
}
