// What a QEMU run comes to, from what was seen of it: the job's result, or the lab's own failure
// with the sentence that says which.
import { describe, expect, test } from 'vitest';
import { GuestError, guestOutcome, type QemuRunSeen } from '../../src/lab/run-in-guest.js';

function seen(over: Partial<QemuRunSeen> = {}, console: Partial<QemuRunSeen['console']> = {}): QemuRunSeen {
  return {
    qemu: 'qemu-system-x86_64',
    qemuExit: 0,
    spawnError: null,
    stderr: '',
    console: { initSeen: true, kernelPanic: false, setupFailure: null, exitCode: 0, text: 'boot\njob output\n', excerpt: '', ...console },
    at: { init: 2.5, jobStart: 4, jobEnd: 10.25, total: 11 },
    timedOut: false,
    stalled: false,
    bootTimedOut: false,
    aborted: false,
    ...over,
  };
}

const lost = (s: QemuRunSeen) => {
  try {
    guestOutcome(s, 60, null);
  } catch (e) {
    if (e instanceof GuestError) return e.message;
    throw e;
  }
  return null;
};

describe('guestOutcome', () => {
  test('a job that ran: its exit code and where the time went', () => {
    expect(guestOutcome(seen({}, { exitCode: 3 }), 60, null)).toEqual({
      exitCode: 3,
      timedOut: false,
      stalled: false,
      kernelPanic: false,
      panicExcerpt: '',
      console: 'boot\njob output\n',
      seconds: { boot: 2.5, setup: 1.5, run: 6.25, total: 11 },
    });
  });

  test('the exit-code file stands in for a console marker that was lost, not for a job that was killed', () => {
    expect(guestOutcome(seen({}, { exitCode: null }), 60, '7\n').exitCode).toBe(7);
    const killed = guestOutcome(seen({ timedOut: true, at: { init: 1, jobStart: 2, jobEnd: null, total: 30 } }, { exitCode: null }), 60, '0\n');
    expect(killed).toMatchObject({ exitCode: null, timedOut: true, seconds: { run: 28 } });
  });

  test("a guest stopped at the job's own deadline is a timed-out run that says it stalled", () => {
    const stopped = guestOutcome(seen({ timedOut: true, stalled: true, at: { init: 1, jobStart: 2, jobEnd: null, total: 30 } }, { exitCode: null }), 60, null);
    expect(stopped).toMatchObject({ exitCode: null, timedOut: true, stalled: true });
    expect(guestOutcome(seen(), 60, null).stalled).toBe(false);
  });

  test('a panic while the job ran is the job result, with the excerpt', () => {
    const r = guestOutcome(seen({}, { kernelPanic: true, exitCode: null, excerpt: 'BUG: oops\nKernel panic - not syncing: Fatal exception' }), 60, null);
    expect(r).toMatchObject({ exitCode: null, kernelPanic: true, panicExcerpt: 'BUG: oops\nKernel panic - not syncing: Fatal exception' });
  });

  test.each([
    [seen({ spawnError: 'spawn qemu-system-x86_64 ENOENT' }), 'cannot start qemu-system-x86_64: spawn qemu-system-x86_64 ENOENT'],
    [
      seen(
        {},
        {
          initSeen: false,
          kernelPanic: true,
          excerpt: 'VFS: Unable to mount root fs\nKernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)',
        },
      ),
      "the VM's kernel panicked before reaching /init: Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
    ],
    [seen({}, { setupFailure: 'mount of /usr failed' }), 'the VM could not set up the job: mount of /usr failed'],
    [
      seen({ bootTimedOut: true, qemuExit: null }, { initSeen: false, text: 'SeaBIOS\nBooting from ROM..\n' }),
      'the VM did not reach /init within 60 s (raise the boot timeout for slow kernels); console: SeaBIOS | Booting from ROM..',
    ],
    [
      seen({ qemuExit: 1, stderr: 'qemu-system-x86_64: -kernel vmlinuz: No such file\n' }, { initSeen: false, text: '' }),
      'the VM exited (code 1) before reaching /init: qemu-system-x86_64: -kernel vmlinuz: No such file',
    ],
    [seen({ bootTimedOut: true, at: { init: 3, jobStart: null, jobEnd: null, total: 60 } }), 'the VM reached /init but did not start the job within 60 s'],
    [seen({ qemuExit: 0, at: { init: 3, jobStart: null, jobEnd: null, total: 5 } }), 'the VM stopped before starting the job (QEMU exit 0)'],
  ])('the lab failed: %#', (s, message) => {
    expect(lost(s)).toBe(message);
  });
});
