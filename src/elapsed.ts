// Elapsed time for timings and progress lines: one monotonic clock (a wall-clock step does not
// bend a timing), one rounding.

/** A stopwatch started now: returns the seconds since, to the millisecond. */
export function stopwatch(): () => number {
  const t0 = performance.now();
  return () => Math.round(performance.now() - t0) / 1000;
}
