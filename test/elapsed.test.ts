import { expect, test } from 'vitest';
import { stopwatch } from '../src/elapsed.js';

test('a stopwatch gives the seconds since it started, to the millisecond', async () => {
  const elapsed = stopwatch();
  await new Promise((r) => setTimeout(r, 120));
  const s = elapsed();
  expect(s).toBeGreaterThanOrEqual(0.11);
  expect(s).toBeLessThan(5);
  expect(s * 1000).toBeCloseTo(Math.round(s * 1000), 6);
  expect(elapsed()).toBeGreaterThanOrEqual(s);
});
