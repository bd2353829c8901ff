// The job summary (GITHUB_STEP_SUMMARY) and the step outputs.
import * as core from '@actions/core';
import type { Verdict } from '../core/model.js';
import { STEP_SUMMARY_MAX_BYTES, truncateText } from '../report/truncate.js';

/** Markdown for the summary: warnings about outputs that could not be posted, then the report. */
function summaryMarkdown(markdown: string, warnings: string[]): string {
  const head = warnings.map((w) => `> [!WARNING]\n> ${w.replace(/\n/g, '\n> ')}\n`).join('\n');
  return head === '' ? markdown : `${head}\n${markdown}`;
}

/** Appends to the job summary; needs GITHUB_STEP_SUMMARY (set on every runner). */
export async function writeJobSummary(markdown: string, warnings: string[] = []): Promise<void> {
  let text = summaryMarkdown(markdown, warnings);
  // The limit is in bytes; characters of the table are mostly one byte, so cut by characters and re-check.
  let max = STEP_SUMMARY_MAX_BYTES - 1024;
  while (Buffer.byteLength(text, 'utf8') > STEP_SUMMARY_MAX_BYTES - 1024) {
    max = Math.floor(max * 0.9);
    text = truncateText(summaryMarkdown(markdown, warnings), max, 'the JSON report');
  }
  await core.summary.addRaw(text, true).write();
}

interface StepOutputs {
  verdict: Verdict;
  /** Path of the JSON report. */
  report?: string;
  /** Undefined when nothing was measured: the output is then empty, not 0. */
  leakedPerCycle?: number;
  commentUrl?: string | null;
}

export function setStepOutputs(outputs: StepOutputs): void {
  core.setOutput('verdict', outputs.verdict);
  if (outputs.report !== undefined) core.setOutput('report', outputs.report);
  core.setOutput('leaked-per-cycle', outputs.leakedPerCycle === undefined ? '' : String(outputs.leakedPerCycle));
  core.setOutput('comment-url', outputs.commentUrl ?? '');
}
