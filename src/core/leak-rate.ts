// Objects leaked per workload cycle, read from the outstanding count after each cycle, and how
// that figure was judged: growth that goes on through the last cycle is a leak, growth that stops
// (a cache that reached its cap) is not.
import type { GrowthJudgement } from './model.js';

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

/** The cycles a growing count's rate is read over: all of them up to 3, else the later half and one more. */
export function rateWindow(cycles: number): number {
  return cycles <= 3 ? cycles : Math.ceil(cycles / 2) + 1;
}

const s = (n: number) => (n === 1 ? '' : 's');

/**
 * How the outstanding objects after each cycle (cycle 1 first) grew, and the rate read from it.
 * - growing: the last cycle left more than any cycle before it: the rate is the least-squares
 *   slope over the last cycles (`rateWindow`), so a cache filled early does not dilute it;
 * - plateau: the count stopped rising at cycle k and never went above that level again: rate 0
 *   (a bounded cache, or objects freed a cycle later);
 * - flat: no cycle left more than the first: rate 0;
 * - end: one cycle, or none marked: the objects left at the end, per cycle.
 * With 2 cycles growth cannot be told from a cache filling up; the text says so.
 */
export function judgeGrowth(afterEachCycle: readonly number[], finalOutstanding: number): GrowthJudgement {
  const n = afterEachCycle.length;
  if (n < 2) {
    const rate = round2(finalOutstanding / Math.max(n, 1));
    return { shape: 'end', rate, text: n === 1 ? 'one cycle: the objects left at the end' : 'no cycle markers: the objects left at the end' };
  }
  let peak = 0;
  for (let i = 1; i < n; i++) if (afterEachCycle[i] > afterEachCycle[peak]) peak = i;
  if (peak < n - 1) {
    const level = afterEachCycle[peak];
    if (peak === 0) return { shape: 'flat', rate: 0, text: `no growth after cycle 1 (${n} cycles)` };
    const flat = n - 1 - peak;
    return {
      shape: 'plateau',
      rate: 0,
      from: peak + 1,
      text: `plateau from cycle ${peak + 1}: ${level} object${s(level)}, not exceeded in the ${flat} cycle${s(flat)} after`,
    };
  }
  const w = rateWindow(n);
  const rate = round2(Math.max(slope(afterEachCycle.slice(n - w)), 0));
  const where = w === n ? `slope over all ${n} cycles` : `slope over the last ${w} cycles (${n - w + 1}–${n})`;
  const two = n === 2 ? '; with 2 cycles a cache filling up cannot be told from a leak: run 3 or more to see a plateau' : '';
  return { shape: 'growing', rate, window: [n - w + 1, n], text: `grows through the last cycle: ${where}${two}` };
}

/** The rate alone (see judgeGrowth). */
export function leakRate(afterEachCycle: readonly number[], finalOutstanding: number): number {
  return judgeGrowth(afterEachCycle, finalOutstanding).rate;
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
