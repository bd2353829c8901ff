// The canary's judgement and its effect on the verdict, on the recorded kni_like runs: a trace
// without the canary's call site must never count as "caught".
import { describe, expect, test } from 'vitest';
import { applyCanary } from '../../src/verdict/decide.js';
import { CANARY_MODULE } from '../../src/core/canary-module.js';
import { canaryMarkdown } from '../../src/report/canary.js';
import { canaryPlan, judgeCanary } from '../../src/run/canary.js';
import type { CanaryResult } from '../../src/core/model.js';
import { recordedReport } from '../support/recorded-report.js';

// Any release: the judgement only names it.
const KERNEL = '9.9.0-9-amd64';

describe('judgeCanary', () => {
  test('a run that failed, or that has no trace, is not caught and says why', async () => {
    const { pr } = await recordedReport();
    expect(judgeCanary({ ...pr, status: 'load-failed', reason: 'insmod ab_canary failed: Invalid module format' }, KERNEL)).toMatchObject({
      caught: false,
      status: 'load-failed',
      reason: expect.stringMatching(/^the canary run failed: .*Invalid module format/),
    });
    expect(judgeCanary({ ...pr, analysis: undefined }, KERNEL)).toMatchObject({ caught: false, reason: 'the canary run produced no trace' });
  });

  test('a real trace of another module, with leaks of its own, is not the canary: not caught', async () => {
    const { pr } = await recordedReport();
    const r = judgeCanary(pr, KERNEL);
    expect(r.caught).toBe(false);
    expect(r.reason).toBe('the canary trace shows 3 cycles instead of 2');
  });
});

describe('applyCanary', () => {
  const missed: CanaryResult = {
    caught: false,
    site: 'ab_canary_open',
    leakedPerCycle: 0,
    cycles: 2,
    status: 'ok',
    kernel: KERNEL,
    reason: 'no allocation at ab_canary_open',
  };

  test('caught: the comparison stands', async () => {
    const report = await recordedReport();
    expect(applyCanary(report.comparison, { ...missed, caught: true, leakedPerCycle: 1, reason: undefined }, report.pr)).toBe(report.comparison);
  });

  test('not caught: a leak verdict becomes inconclusive, naming the kernel and the reason', async () => {
    const report = await recordedReport();
    expect(report.comparison.verdict).toBe('fail');
    const c = applyCanary(report.comparison, missed, report.pr);
    expect(c.verdict).toBe('inconclusive');
    expect(c.headline).toContain(`(${KERNEL}): no allocation at ab_canary_open`);
    expect(c.reasons[0]).toBe(`canary (${CANARY_MODULE}, 2 cycles): no allocation at ab_canary_open`);
  });

  test('not caught, but the PR did not even build: the fail stands, the canary is a reason', async () => {
    const report = await recordedReport({ pr: { status: 'build-failed', reason: 'the build failed' } });
    expect(report.comparison.verdict).toBe('fail');
    const c = applyCanary(report.comparison, missed, report.pr);
    expect(c.verdict).toBe('fail');
    expect(c.reasons.at(-1)).toBe('canary: no allocation at ab_canary_open');
  });

  test('the report line says which way it went', () => {
    expect(canaryMarkdown(undefined)).toBe('');
    expect(canaryMarkdown({ ...missed, caught: true, leakedPerCycle: 1, reason: undefined })).toMatch(/Canary caught: .* over 2 cycles on 9\.9\.0-9-amd64/);
    expect(canaryMarkdown(missed)).toMatch(/Canary NOT caught: no allocation at ab_canary_open\. .*proves nothing/);
  });
});

describe('canaryPlan', () => {
  test("the canary's own module, pair and workload, with the job's tracing", () => {
    const plan = canaryPlan({ traceBufferKb: 8192, stacks: false, timeoutSeconds: 600 }, '/tmp/c');
    expect(plan).toMatchObject({ traceBufferKb: 8192, stacks: false, timeoutSeconds: 600, cycles: 2 });
    expect(plan.track).toEqual([{ alloc: 'alloc_netdev_mqs', free: 'free_netdev' }]);
    expect(plan.build.moduleName).toBe(CANARY_MODULE);
    expect(plan.workload.command).toBe('sh /tmp/c/workload.sh');
  });
});
