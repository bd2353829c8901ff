// Running a real program: its output as it comes, a program that is not there, a cancelled run.
import { describe, expect, test } from 'vitest';
import { describeExit, runCommand } from '../../src/process/run.js';

describe('runCommand', () => {
  test('stdout and stderr apart, interleaved, and streamed as they come', async () => {
    const chunks: string[] = [];
    const r = await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3'], { onOutput: (text, stream) => chunks.push(`${stream}:${text}`) });
    expect(r).toMatchObject({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
    expect(r.output).toContain('out\n');
    expect(r.output).toContain('err\n');
    expect(chunks.sort()).toEqual(['stderr:err\n', 'stdout:out\n']);
    expect(describeExit(r)).toBe('exit 3');
  });

  test('a program that is not installed: the errno and a message naming it', async () => {
    const r = await runCommand('alloc-balance-no-such-program', []);
    expect(r.code).toBeNull();
    expect(r.spawnError).toBe('ENOENT');
    expect(describeExit(r)).toBe('alloc-balance-no-such-program: not found (is it installed?)');
  });

  test('an abort signal stops the program with SIGTERM', async () => {
    const abort = new AbortController();
    const running = runCommand('sleep', ['30'], { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    const r = await running;
    expect(r.signal).toBe('SIGTERM');
    expect(r.seconds).toBeLessThan(10);
  });

  test('a timeout kills the program and says so', async () => {
    const r = await runCommand('sleep', ['30'], { timeoutSeconds: 0.2 });
    expect(r.signal).toBe('SIGKILL');
    expect(describeExit(r)).toBe('timed out after 0.2 s');
  });
});
