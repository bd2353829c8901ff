import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { armWatchdog, disarmWatchdog, WATCHDOG_FILE, WATCHDOG_GRACE_SECONDS, watchdogExpired, watchdogFired } from '../../src/lab/guest-watchdog.js';
import { useTempDir } from '../support/temp-dir.js';

describe("the job's own deadline", () => {
  it('runs out the seconds it allowed plus the grace after the write, not before', () => {
    const at = 1_000_000;
    expect(watchdogExpired('60\n', at, at + (60 + WATCHDOG_GRACE_SECONDS) * 1000)).toBe(false);
    expect(watchdogExpired('60\n', at, at + (60 + WATCHDOG_GRACE_SECONDS) * 1000 + 1)).toBe(true);
  });

  it('never runs out on a text that is not a positive number (a half-written file)', () => {
    expect(watchdogExpired('', 0, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(watchdogExpired('abc', 0, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  describe('in an out folder', () => {
    const dir = useTempDir('ab-watchdog-');

    it('is read from the file and its modification time; disarmed, nothing fires', () => {
      expect(watchdogFired(dir)).toBe(false);
      armWatchdog(dir, 10);
      expect(watchdogFired(dir)).toBe(false);
      const old = (Date.now() - (10 + WATCHDOG_GRACE_SECONDS + 5) * 1000) / 1000;
      utimesSync(join(dir, WATCHDOG_FILE), old, old);
      expect(watchdogFired(dir)).toBe(true);
      disarmWatchdog(dir);
      expect(watchdogFired(dir)).toBe(false);
    });
  });
});
