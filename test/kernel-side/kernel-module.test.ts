// The unload retry: rmmod again while the module is busy, done once it is gone.
import { describe, expect, test } from 'vitest';
import type { CommandResult } from '../../src/process/run.js';
import { unloadModule, type UnloadIo } from '../../src/kernel-side/kernel-module.js';

const BUSY: CommandResult = { code: 1, signal: null, stdout: '', stderr: 'rmmod: ERROR: Module leaky is in use\n', output: '', seconds: 0 };
const DONE: CommandResult = { ...BUSY, code: 0, stderr: '' };

/** A module that stays busy for `busyFor` rmmod calls. */
function machine(busyFor: number, loaded = true): UnloadIo & { calls: number } {
  const io = {
    calls: 0,
    delayMs: 1,
    isLoaded: () => loaded,
    rmmod: async () => {
      io.calls++;
      if (io.calls <= busyFor) return BUSY;
      loaded = false;
      return DONE;
    },
  };
  return io;
}

describe('unloadModule', () => {
  test('busy twice, then unloaded', async () => {
    const io = machine(2);
    expect(await unloadModule('leaky', 10, io)).toEqual({ ok: true });
    expect(io.calls).toBe(3);
  });

  test('busy every time: fails after the last attempt with what rmmod said', async () => {
    const io = machine(Number.POSITIVE_INFINITY);
    expect(await unloadModule('leaky', 4, io)).toEqual({ ok: false, why: 'rmmod: ERROR: Module leaky is in use' });
    expect(io.calls).toBe(4);
  });

  test('not loaded: nothing to do', async () => {
    const io = machine(0, false);
    expect(await unloadModule('leaky', 10, io)).toEqual({ ok: true });
    expect(io.calls).toBe(0);
  });

  test('rmmod failed but the module is gone (unloaded meanwhile): done', async () => {
    let loaded = true;
    const io: UnloadIo = {
      delayMs: 1,
      isLoaded: () => loaded,
      rmmod: async () => {
        loaded = false;
        return BUSY;
      },
    };
    expect(await unloadModule('leaky', 10, io)).toEqual({ ok: true });
  });
});
