import { describe, expect, test } from 'vitest';
import type { GuestResult } from '../../src/lab/run-in-guest.js';
import { guestOutcome } from '../../src/run/launcher.js';

function guest(over: Partial<GuestResult> = {}): GuestResult {
  return {
    exitCode: 0,
    timedOut: false,
    stalled: false,
    kernelPanic: false,
    panicExcerpt: '',
    console: 'alloc-balance: job done\n',
    accel: 'tcg',
    shared: [],
    removedFromOut: [],
    seconds: { boot: 4, setup: 1.5, run: 20, total: 26 },
    ...over,
  } as GuestResult;
}

const LIMITS = { aborted: false, timeoutMinutes: 30 };

describe("what a VM's run comes to for the side", () => {
  test("a job that ended: its exit code, the VM's timings, no failure (the job's own status decides)", () => {
    expect(guestOutcome(guest({ exitCode: 3 }), LIMITS)).toEqual({
      exitCode: 3,
      timings: { boot: 4, guestSetup: 1.5, vm: 26 },
      output: 'alloc-balance: job done\n',
    });
  });

  test('a panic or oops is a kernel splat with its excerpt; a soft lockup is named as one', () => {
    const oops = guestOutcome(guest({ exitCode: null, kernelPanic: true, panicExcerpt: 'BUG: kernel NULL pointer dereference' }), LIMITS);
    expect(oops.failure).toEqual({
      status: 'kernel-splat',
      reason: 'the kernel crashed (panic or oops) during the run',
      excerpt: 'BUG: kernel NULL pointer dereference',
    });
    const lockup = guestOutcome(guest({ kernelPanic: true, panicExcerpt: 'watchdog: BUG: soft lockup - CPU#1 stuck for 120s!' }), LIMITS);
    expect(lockup.failure?.reason).toBe('a CPU of the kernel locked up (soft lockup) during the run');
  });

  test('a VM stopped at its deadline: cancelled when the caller aborted, else a guest that stopped answering, else the run timeout', () => {
    const stopped = guest({ exitCode: null, timedOut: true, console: 'x'.repeat(5000) });
    expect(guestOutcome(stopped, { ...LIMITS, aborted: true }).failure).toEqual({ status: 'cancelled', reason: 'the run was cancelled' });
    const stalled = guestOutcome({ ...stopped, stalled: true }, LIMITS).failure;
    expect(stalled?.reason).toBe('the guest stopped answering: the job did not renew its own deadline');
    expect(stalled?.excerpt).toHaveLength(4000);
    expect(guestOutcome(stopped, LIMITS).failure).toMatchObject({ status: 'timeout', reason: 'the run took longer than timeout-minutes (30)' });
    expect(guestOutcome(stopped, LIMITS).exitCode).toBeNull();
  });
});
