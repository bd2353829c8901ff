// The check run and job summary of a report job that found no report to post: the check fails
// at once instead of leaving a required check waiting for a report that will never come.

interface NoReport {
  checkName: string;
  /** Why nothing was read (the `reports` input's error). */
  reason: string;
  /** The collect run the report job follows (workflow_run). */
  collectRun?: { url: string; conclusion: string | null };
}

export function noReportText(what: NoReport): { headline: string; markdown: string } {
  const headline = '❌ no report: the collect run produced no alloc-balance report';
  const run = what.collectRun;
  const source = run ? `The collect run ([workflow run](${run.url})${run.conclusion ? `, ${run.conclusion}` : ''})` : 'The collect run';
  const markdown = [
    `### ${what.checkName}: kernel memory balance`,
    '',
    `**${headline}**`,
    '',
    `${source} left no report to read: ${what.reason}`,
    '',
    "This check fails so that a required check does not wait for a report that will not come. See the collect run's log, fix what stopped it, and run it again.",
    '',
  ].join('\n');
  return { headline, markdown };
}
