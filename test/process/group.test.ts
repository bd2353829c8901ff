// Stopping a workload's process group with real processes: the stop signal, SIGKILL after the grace time.
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { stopwatch } from '../../src/elapsed.js';
import { groupAlive, groupMembers, startShellGroup, stopGroup, stopShellGroup } from '../../src/process/group.js';

/** A shell leading its own group; returns once its `sleep` runs (a signal before the exec would be lost). */
async function group(script: string): Promise<number> {
  const child = spawn('sh', ['-c', `${script}\nwait`], { detached: true, stdio: 'ignore' });
  const pgid = child.pid!;
  while (!groupMembers(pgid).some((p) => p.comm === 'sleep')) await new Promise((r) => setTimeout(r, 20));
  return pgid;
}

describe('stopGroup', () => {
  test('a group that obeys the stop signal is gone without SIGKILL', async () => {
    const pgid = await group(`trap 'exit 0' TERM; sleep 30 &`);
    const elapsed = stopwatch();
    expect(await stopGroup(pgid, 'SIGTERM', 5)).toEqual({ killed: false });
    expect(groupAlive(pgid)).toBe(false);
    expect(elapsed()).toBeLessThan(4);
  });

  test('a group that ignores it, children included, is SIGKILLed after the grace time', async () => {
    const pgid = await group(`trap '' TERM; sh -c "trap '' TERM; sleep 30" &`);
    const elapsed = stopwatch();
    expect(await stopGroup(pgid, 'SIGTERM', 0.5)).toEqual({ killed: true });
    expect(groupAlive(pgid)).toBe(false);
    expect(elapsed()).toBeGreaterThanOrEqual(0.5);
  });
});

describe('startShellGroup and stopShellGroup', () => {
  test('the shell leads its own group, with env over the process environment', async () => {
    const g = startShellGroup('echo "$AB_GROUP_TEST"; sleep 30', { env: { AB_GROUP_TEST: 'from env' } });
    let out = '';
    g.child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    while (!groupMembers(g.pgid!).some((p) => p.comm === 'sleep')) await new Promise((r) => setTimeout(r, 20));
    expect(g.pgid).toBe(g.child.pid);
    const stop = await stopShellGroup(g, 'SIGTERM', 5);
    expect(stop).toMatchObject({ killed: false, survived: false });
    expect(out).toBe('from env\n');
  });

  test('a group already gone is not stopped: no time, no SIGKILL', async () => {
    const g = startShellGroup('exit 3', {});
    await g.closed;
    expect(await stopShellGroup(g, 'SIGTERM', 5)).toEqual({ killed: false, stopSeconds: 0, survived: false });
  });
});
