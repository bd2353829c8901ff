// The leak rule: growth that goes on through the last cycle is a leak, growth that stops is not;
// one case per row: the outstanding objects after each cycle, what was left after unload, and
// the shape, rate and words the report gives.
import { describe, expect, it } from 'vitest';
import { judgeGrowth, rateWindow, slope } from '../../src/core/leak-rate.js';

type Row = [string, number[], number, string, number, string | RegExp];

const CASES: Row[] = [
  ['a steady leak, 3 cycles', [1, 2, 3], 3, 'growing', 1, 'grows through the last cycle: slope over all 3 cycles'],
  ['a steady leak over what load left', [2, 3, 4], 4, 'growing', 1, 'grows through the last cycle: slope over all 3 cycles'],
  ['a leak freed at unload (a list emptied at exit)', [1, 2, 3], 0, 'growing', 1, /^grows through the last cycle/],
  [
    'a ring of 2 buffers, 6 cycles (the bounded cache)',
    [1, 2, 2, 2, 2, 2],
    0,
    'plateau',
    0,
    'plateau from cycle 2: 2 objects, not exceeded in the 4 cycles after',
  ],
  ['the same ring, 3 cycles', [1, 2, 2], 0, 'plateau', 0, 'plateau from cycle 2: 2 objects, not exceeded in the 1 cycle after'],
  ['the ring with 2 cycles: growth, said to be undecidable', [1, 2], 0, 'growing', 1, /with 2 cycles a cache filling up cannot be told from a leak/],
  ['nothing held after the first cycle', [1, 1, 1], 1, 'flat', 0, 'no growth after cycle 1 (3 cycles)'],
  ['freed a cycle late, in and out of phase', [0, 1, 0, 1, 0, 1], 0, 'plateau', 0, /^plateau from cycle 2/],
  ['freed over time', [3, 2, 1], 0, 'flat', 0, /^no growth/],
  ['a step in the last cycle', [1, 1, 2], 2, 'growing', 0.5, 'grows through the last cycle: slope over all 3 cycles'],
  ['a step before the last cycle', [0, 1, 1], 0, 'plateau', 0, /^plateau from cycle 2/],
  ['every 3rd cycle, 6 cycles', [0, 0, 1, 1, 1, 2], 2, 'growing', 0.3, 'grows through the last cycle: slope over the last 4 cycles (3–6)'],
  ['a cache filling up beside a steady leak', [2, 4, 5, 6, 7, 8], 6, 'growing', 1, /slope over the last 4 cycles \(3–6\)$/],
  ['7 cycles, uneven', [0, 1, 1, 2, 2, 3, 4], 4, 'growing', 0.7, /slope over the last 5 cycles \(3–7\)$/],
  ['one cycle: what is left', [1], 3, 'end', 3, 'one cycle: the objects left at the end'],
  ['no markers: what is left', [], 2, 'end', 2, 'no cycle markers: the objects left at the end'],
];

describe('judgeGrowth', () => {
  it.each(CASES)('%s: %j, %i left after unload -> %s, %d/cycle', (_name, after, left, shape, rate, text) => {
    const j = judgeGrowth(after, left);
    expect(j.shape).toBe(shape);
    expect(j.rate).toBe(rate);
    if (typeof text === 'string') expect(j.text).toBe(text);
    else expect(j.text).toMatch(text);
  });

  it('names the window of a growing count and the start of a plateau', () => {
    expect(judgeGrowth([0, 0, 1, 1, 1, 2], 2).window).toEqual([3, 6]);
    expect(judgeGrowth([1, 2, 3], 3).window).toEqual([1, 3]);
    expect(judgeGrowth([1, 2, 2, 2, 2, 2], 0).from).toBe(2);
  });

  it('reads the rate over all cycles up to 3, then over the later half and one more', () => {
    expect([2, 3, 4, 5, 6, 8, 10].map(rateWindow)).toEqual([2, 3, 3, 4, 4, 5, 6]);
    expect(slope([1, 2, 3])).toBe(1);
  });
});
