import { describe, expect, test } from 'vitest';
import type { SideRun } from '../../src/core/model.js';
import type { TargetStatus } from '../../src/kernel-side/status.js';
import { takeStatus } from '../../src/run/side.js';

const STATUS = {
  schema: 'alloc-balance/target-status@1',
  status: 'workload-failed',
  reason: 'the workload exited with 3 before it was ready',
  logExcerpt: 'exercise: cannot open /dev/leaky',
  timings: { setup: 0.5, load: 0.25, cycles: [{ totalSeconds: 1.004 }, { totalSeconds: 2.003 }], unload: 0.125, collect: 0.5, total: 4.75 },
  kernel: 'lab',
  module: { name: 'leaky', path: '/m/leaky.ko', args: '', vermagic: '' },
  sections: {},
  tracing: null,
  files: ['trace.txt', 'stats-cpu0.txt'],
  notes: ['a stale lock was taken over'],
} as unknown as TargetStatus;

describe("a side's run, from the status the kernel side wrote", () => {
  test("takes its status and reason, its timings (the cycles summed), its files under the out folder and its notes after the side's own", () => {
    const run: SideRun = { side: 'pr', ref: 'head', sha: 'abc', status: 'ok', timings: { build: 3, run: 9 }, notes: ['track auto: kmalloc'] };
    takeStatus(run, STATUS, '/out/pr');
    expect(run).toEqual({
      side: 'pr',
      ref: 'head',
      sha: 'abc',
      status: 'workload-failed',
      reason: 'the workload exited with 3 before it was ready',
      logExcerpt: 'exercise: cannot open /dev/leaky',
      timings: { build: 3, run: 9, load: 0.25, cycles: 3.01, unload: 0.125, job: 4.75 },
      artifacts: ['/out/pr/trace.txt', '/out/pr/stats-cpu0.txt'],
      notes: ['track auto: kmalloc', 'a stale lock was taken over'],
    });
  });
});
