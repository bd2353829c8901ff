// Objects leaked per workload cycle, read from the outstanding count after each cycle.

export function round2(n: number): number {
  const r = Math.round(n * 100) / 100;
  return r === 0 ? 0 : r;
}

/** Least-squares slope of y over x = 1..n. */
export function slope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n + 1) / 2;
  let meanY = 0;
  for (const v of values) meanY += v;
  meanY /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = i + 1 - meanX;
    num += dx * (values[i] - meanY);
    den += dx * dx;
  }
  return num / den;
}

/**
 * With two or more workload cycles: the slope of the cumulative outstanding objects after each
 * cycle, so that objects held once (set-up, caches) do not count as a leak per cycle. With one
 * cycle (or none marked): what is still outstanding at the end, per cycle.
 */
export function leakRate(afterEachCycle: readonly number[], finalOutstanding: number): number {
  if (afterEachCycle.length >= 2) return round2(slope(afterEachCycle));
  return round2(finalOutstanding / Math.max(afterEachCycle.length, 1));
}

/**
 * A pair's leak per cycle in bytes: leakedPerCycle times the mean size of the module's outstanding
 * objects, when the trace gave every one's size (kmem events carry bytes_alloc); 0 when nothing
 * leaks; null when the sizes are unknown (kprobe pairs: a return value is an address, not a size).
 */
export function leakedBytesPerCycle(pair: { leakedPerCycle: number; objects: { inModule: boolean | null; bytes?: number }[] }): number | null {
  if (pair.leakedPerCycle <= 0) return 0;
  const objects = pair.objects.filter((o) => o.inModule !== false);
  if (objects.length === 0 || objects.some((o) => o.bytes === undefined)) return null;
  const mean = objects.reduce((sum, o) => sum + (o.bytes ?? 0), 0) / objects.length;
  return Math.round(pair.leakedPerCycle * mean);
}
