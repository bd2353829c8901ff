// Check-run annotations and log excerpts from a report built on the recorded kni_like runs.
import { describe, expect, test } from 'vitest';
import { annotationsFor, runLogsMarkdown } from '../../src/report/annotations.js';
import { recordedReport } from '../support/recorded-report.js';

describe('annotationsFor', () => {
  test('one failure annotation per leaking module site, at its source line, with the rate on each side', async () => {
    const report = await recordedReport();
    expect(report.comparison.verdict).toBe('fail');
    const notes = annotationsFor(report);
    expect(notes.map((n) => [n.path, n.line, n.level, n.title])).toEqual([['kni_like.c', 59, 'failure', 'alloc_netdev_mqs:free_netdev: 2 leaked per cycle']]);
    expect(notes[0].message).toBe(
      'igb_like_probe allocates with alloc_netdev_mqs and 2 object(s) per workload cycle are never released by free_netdev (base: 0).',
    );
  });

  test('none when the PR leaks nothing', async () => {
    const report = await recordedReport();
    const balanced = { ...report, comparison: { ...report.comparison, rows: report.comparison.rows.map((r) => ({ ...r, status: 'balanced' as const })) } };
    expect(annotationsFor(balanced)).toEqual([]);
  });
});

describe('runLogsMarkdown', () => {
  test('nothing for two clean sides; a collapsed, fenced excerpt for a side that failed', async () => {
    expect(runLogsMarkdown(await recordedReport())).toBe('');
    const failed = await recordedReport({
      pr: { status: 'build-failed', reason: 'the build failed', logExcerpt: 'kni_like.c:12: error: ```x``` <b>' },
    });
    const md = runLogsMarkdown(failed);
    expect(md).toMatch(/^\n<details><summary>PR: .*the build failed.*<\/summary>\n/);
    expect(md).toContain("\n```text\nkni_like.c:12: error: '''x''' <b>\n```\n");
    expect(md).not.toContain('base:');
  });
});
