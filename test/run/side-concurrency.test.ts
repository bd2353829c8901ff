import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { HEADROOM_MB, sideConcurrency, type ConcurrencyInput } from '../../src/run/side-concurrency.js';
import { measure } from '../../src/run/pipeline.js';
import type { TargetRunner } from '../../src/run/launcher.js';
import { parseSettings } from '../../src/settings/settings.js';
import { useTempDir } from '../support/temp-dir.js';

const ROOMY: ConcurrencyInput = { target: 'vm', sidesToRun: 2, preset: false, cores: 8, freeMemoryMb: 16000, vm: { memoryMb: 1024, cpus: 2 } };

describe('sideConcurrency', () => {
  test('two VMs at once on a runner with the cores and memory for both', () => {
    expect(sideConcurrency(ROOMY)).toEqual({
      atOnce: true,
      why: 'both sides at once: 8 cores and 16000 MiB free hold two VMs of 2 CPUs and 1024 MiB',
    });
    expect(sideConcurrency({ ...ROOMY, cores: 4, freeMemoryMb: 2 * 1024 + HEADROOM_MB }).atOnce).toBe(true);
  });

  test.each<[string, Partial<ConcurrencyInput>, string]>([
    ['2 cores', { cores: 2 }, 'one side after the other: this runner has 2 cores, two VMs of 2 CPUs need 4'],
    ['VMs of 4 CPUs on 6 cores', { cores: 6, vm: { memoryMb: 1024, cpus: 4 } }, 'one side after the other: this runner has 6 cores, two VMs of 4 CPUs need 8'],
    ['too little memory', { freeMemoryMb: 3000 }, 'one side after the other: 3000 MiB free, two VMs of 1024 MiB need 3072 MiB'],
    ['target host', { target: 'host' }, 'one side after the other: target: host has one kernel, which runs one side at a time'],
    ['a preset', { preset: true }, 'one side after the other: the preset builds the user space once, on the first side, for both'],
    ['a cached base', { sidesToRun: 1 }, 'one side after the other: only the PR side runs'],
  ])('one after the other with %s', (_what, patch, why) => {
    expect(sideConcurrency({ ...ROOMY, ...patch })).toEqual({ atOnce: false, why });
  });
});

describe('measure() at once', () => {
  const work = useTempDir('ab-at-once-');
  const NO_TARGET: TargetRunner = {
    kernel: { release: '6.1.0-57-amd64', buildDir: '/nonexistent' },
    describe: () => 'no target',
    run: () => {
      throw new Error('the target was asked to run a side');
    },
  };

  test.each([
    [{ cores: 8, freeMemoryMb: 16000 }, ['Base and PR at once (aaaaaaaaaaaa, bbbbbbbbbbbb)']],
    [{ cores: 2, freeMemoryMb: 16000 }, ['Base (aaaaaaaaaaaa)', 'PR (bbbbbbbbbbbb)']],
  ])('on %o: the log groups, and both sides measured', async (machine, groups) => {
    const settings = parseSettings((name) => ({ workload: './app', 'module-dir': 'driver' })[name] ?? '');
    const lines: string[] = [];
    const titles: string[] = [];
    const measured = await measure(
      settings,
      {
        base: { side: 'base', ref: 'main', sha: 'a'.repeat(40), dir: join(work, 'base') },
        pr: { side: 'pr', ref: 'fix', sha: 'b'.repeat(40), dir: join(work, 'pr') },
      },
      NO_TARGET,
      {
        log: (l) => lines.push(l),
        group: (name, fn) => {
          titles.push(name);
          return fn();
        },
        machine,
      },
      join(work, 'out'),
    );
    expect(titles).toEqual(groups);
    expect(lines[0]).toMatch(groups.length === 1 ? /^both sides at once: / : /^one side after the other: this runner has 2 cores/);
    expect([measured.base.side, measured.base.status, measured.pr.side, measured.pr.status]).toEqual(['base', 'setup-failed', 'pr', 'setup-failed']);
    expect(measured.comparison.verdict).toBe('inconclusive');
  });
});
