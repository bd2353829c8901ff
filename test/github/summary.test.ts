import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setStepOutputs, writeJobSummary } from '../../src/github/summary.js';
import { STEP_SUMMARY_MAX_BYTES } from '../../src/report/truncate.js';
import { stepSummaryFile } from '../support/github-env.js';
import { compare } from '../../src/verdict/traces.js';
import { prLeakedPerCycle } from '../../src/core/compare.js';
import { decideVerdict } from '../../src/verdict/decide.js';
import { recordedReport } from '../support/recorded-report.js';
import { useTempDir } from '../support/temp-dir.js';

const summary = stepSummaryFile();
const dir = useTempDir('alloc-balance-outputs-');

describe('job summary and outputs', () => {
  it('puts warnings above the table', async () => {
    summary.reset();
    await writeJobSummary('| pair | PR |\n|---|---|\n| a:b | 2 |', ['Commenting on pull request #57 failed (HTTP 403)']);
    expect(summary.read()).toBe('> [!WARNING]\n> Commenting on pull request #57 failed (HTTP 403)\n\n| pair | PR |\n|---|---|\n| a:b | 2 |\n');
  });

  it('stays under the 1 MiB step-summary limit, even with multi-byte text', async () => {
    summary.reset();
    await writeJobSummary('| kni_ioctl_create → alloc_netdev_mqs | ✗ |\n'.repeat(40_000));
    const bytes = Buffer.byteLength(summary.read(), 'utf8');
    expect(bytes).toBeLessThanOrEqual(STEP_SUMMARY_MAX_BYTES);
    expect(bytes).toBeGreaterThan(STEP_SUMMARY_MAX_BYTES * 0.8);
    expect(summary.read()).toContain('characters cut to fit');
  });

  it('sets the step outputs', () => {
    const out = join(dir, 'output');
    writeFileSync(out, '');
    process.env.GITHUB_OUTPUT = out;
    setStepOutputs({
      verdict: 'fail',
      report: 'alloc-balance-out/report.json',
      leakedPerCycle: 2,
      commentUrl: 'https://github.com/nic-lab/kni-driver/pull/57#issuecomment-1',
    });
    const text = readFileSync(out, 'utf8');
    for (const [name, value] of [
      ['verdict', 'fail'],
      ['report', 'alloc-balance-out/report.json'],
      ['leaked-per-cycle', '2'],
      ['comment-url', 'https://github.com/nic-lab/kni-driver/pull/57#issuecomment-1'],
    ]) {
      expect(text).toMatch(new RegExp(`^${name}<<(ghadelimiter_[^\\n]+)\\n${value.replace(/[.?/]/g, '\\$&')}\\n\\1$`, 'm'));
    }
  });

  it('leaves leaked-per-cycle empty when the PR build was not measured, 0 only when it measured 0', async () => {
    const out = join(dir, 'output-unmeasured');
    writeFileSync(out, '');
    process.env.GITHUB_OUTPUT = out;
    const unbuilt = await recordedReport({ pr: { status: 'build-failed', reason: 'kni_like.c:59: error: expected ;', analysis: undefined } });
    expect(prLeakedPerCycle(unbuilt.comparison)).toBeUndefined();
    setStepOutputs({ verdict: unbuilt.comparison.verdict, leakedPerCycle: prLeakedPerCycle(unbuilt.comparison) });
    expect(readFileSync(out, 'utf8')).toMatch(/^leaked-per-cycle<<(ghadelimiter_[^\n]+)\n\n\1$/m);

    const balanced = await recordedReport();
    const fixed = { ...balanced.pr, analysis: balanced.base.analysis };
    expect(prLeakedPerCycle(decideVerdict(balanced.base, fixed, 'new-leak', compare))).toBe(0);
    expect(prLeakedPerCycle(balanced.comparison)).toBe(2);
  });
});
