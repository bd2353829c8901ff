// per_cpu/cpuN/stats of a trace buffer: `overrun` (events overwritten) plus `dropped events`
// (events refused by a full buffer) are events the trace lost.

export interface BufferStats {
  /** CPUs (stats blocks) seen. */
  cpus: number;
  overrun: number;
  dropped: number;
  /** overrun + dropped */
  lost: number;
}

/** Parses one or several concatenated stats files (`head per_cpu/cpu*\/stats` output included). */
export function parseBufferStats(text: string): BufferStats {
  const stats: BufferStats = { cpus: 0, overrun: 0, dropped: 0, lost: 0 };
  let recognized = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = Number(line.slice(colon + 1).trim());
    if (!Number.isFinite(value)) continue;
    if (key === 'entries') {
      stats.cpus++;
      recognized++;
    } else if (key === 'overrun') {
      stats.overrun += value;
      recognized++;
    } else if (key === 'dropped events') {
      stats.dropped += value;
      recognized++;
    } else if (key === 'commit overrun' || key === 'read events' || key === 'bytes') {
      recognized++;
    }
  }
  if (recognized === 0) throw new Error('no "entries:", "overrun:" or "dropped events:" line: not a per_cpu/cpuN/stats file');
  stats.lost = stats.overrun + stats.dropped;
  return stats;
}
