// A plan the sides share (a preset's cached user-space build) runs once when it fails: the next
// side fails the same way, told why, without minutes of the same build.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModule, type BuildAttempt, type PlannedBuild } from '../../src/module-build/build-module.js';
import type { BuildPlan } from '../../src/module-build/build-plan.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-build-attempt-');

function plan(description: string, script: string, output: string): BuildPlan {
  return { kind: 'meson', description, steps: [{ kind: 'run', argv: ['sh', '-c', script] }], env: {}, output };
}

function side(name: string, attempt: BuildAttempt) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'kernel'), { recursive: true });
  writeFileSync(join(dir, 'kernel', 'Makefile'), '');
  const ran = join(dir, 'userspace-ran');
  const plans: PlannedBuild[] = [
    { plan: plan('user space', `touch ${ran}; echo "error: rte_eal.h: No such file or directory" >&2; exit 1`, join(dir, 'program')), attempt },
    { plan: plan('module', `touch ${join(dir, 'm.ko')}`, join(dir, 'm.ko')) },
  ];
  const lines: string[] = [];
  const result = buildModule({ moduleDir: dir, kernelBuildDir: join(dir, 'kernel'), plans, log: (l) => lines.push(l) });
  return { result, ran, lines };
}

describe('a shared plan that failed', () => {
  it('is not run again by the next side, which fails with the same reason and excerpt', async () => {
    const attempt: BuildAttempt = {};
    const base = side('base', attempt);
    const b = await base.result;
    expect(b.ok).toBe(false);
    expect(existsSync(base.ran)).toBe(true);
    expect(b.excerpt).toContain('rte_eal.h');
    expect(attempt.failed?.reason).toBe(b.reason);

    const pr = side('pr', attempt);
    const p = await pr.result;
    expect(p.ok).toBe(false);
    expect(existsSync(pr.ran)).toBe(false);
    expect(p.reason).toBe(`${b.reason} (on the side before; not run again)`);
    expect(p.excerpt).toBe(b.excerpt);
    expect(pr.lines.join('\n')).toMatch(/user space: failed on the side before .*: not run again/);
  });

  it('is run by each side when it is not shared', async () => {
    const one = side('one', {});
    const two = side('two', {});
    expect((await one.result).ok).toBe(false);
    expect((await two.result).ok).toBe(false);
    expect([existsSync(one.ran), existsSync(two.ran)]).toEqual([true, true]);
  });
});
