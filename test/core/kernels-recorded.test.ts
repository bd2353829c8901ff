// Recorded runs on the kernels around the default 6.1 (test/data/recorded/README.md): the trace
// formats of 5.10 and 6.12 read through the whole analysis.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { analyzeTraces } from '../../src/core/analyze-traces.js';
import { NETDEV, recorded } from './helpers.js';

describe('Linux 5.10: the demo, kni_like with lad_dev never freed, 3 cycles', () => {
  const run = recorded('kni-like-leaky-5.10');

  test('4-character flags and sym-addr frames are read; 2 netdevs leak per cycle at igb_like_probe', async () => {
    const text = readFileSync(run.file('trace.txt'), 'utf8');
    expect(text).toMatch(/ \[00\d\] \.\.\.\. {5}\d+\.\d+: alloc_netdev_mqs </);
    const a = await analyzeTraces({ traces: [run.file('trace.txt')], pairs: [NETDEV], stats: run.stats, moduleMap: run.map });
    expect(a.complete).toBe(true);
    expect(a.problems).toEqual([]);
    const p = a.pairs[0];
    expect(p.callers.map((c) => [c.caller.replace(/\+.*/, ''), c.allocs, c.frees])).toEqual([
      ['igb_like_probe', 6, 0],
      ['kni_like_ioctl_create', 6, 6],
    ]);
    expect(p.leakedPerCycle).toBe(2);
    expect((p.moduleCycles ?? []).filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter)).toEqual([2, 4, 6]);
  });
});
