import { describe, expect, test } from 'vitest';
import { failureLine, runSync } from '../../src/process/run-sync.js';

describe('a short program run to its end', () => {
  test('its output, its input, its exit code', () => {
    expect(runSync('sh', ['-c', 'cat; echo err >&2; exit 0'], { input: 'in\n' })).toEqual({
      ok: true,
      status: 0,
      signal: null,
      stdout: 'in\n',
      stderr: 'err\n',
    });
    const failed = runSync('sh', ['-c', 'echo first >&2; echo last >&2; exit 3']);
    expect([failed.ok, failed.status, failureLine(failed)]).toEqual([false, 3, 'last']);
  });

  test('its environment is the one given, whole', () => {
    expect(runSync('/bin/sh', ['-c', 'echo "$ONLY:$HOME"'], { env: { ONLY: 'this' } }).stdout).toBe('this:\n');
  });

  test('a program that is not there, or runs past its time, says so', () => {
    const missing = runSync('alloc-balance-no-such-program', []);
    expect([missing.ok, missing.status, missing.error, failureLine(missing)]).toEqual([false, null, 'ENOENT', 'ENOENT']);
    const slow = runSync('sleep', ['5'], { timeoutMs: 200 });
    expect([slow.ok, slow.error, slow.signal]).toEqual([false, 'ETIMEDOUT', 'SIGTERM']);
  });
});
