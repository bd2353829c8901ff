// report mode under workflow_run: which PR and commit the results belong to. The reports come
// from an artifact that PR code could have written, so a PR number taken from them is trusted
// only when the API confirms that PR's head is the commit the producing run tested.
import { UsageError } from '../errors.js';
import type { RunReport } from '../core/model.js';
import type { GitHubClient, RepoRef } from './client.js';
import type { ChangeUnderTest } from './event.js';
import { fetchPull } from './pulls.js';

interface ReportTarget {
  prNumber: number | null;
  /** Commit the check run goes on. */
  headSha: string;
  warnings: string[];
}

export async function resolveReportTarget(client: GitHubClient | null, repo: RepoRef, change: ChangeUnderTest, reports: RunReport[]): Promise<ReportTarget> {
  const headSha = change.workflowRun?.headSha ?? change.head.sha;
  const warnings: string[] = [];
  for (const report of reports) {
    const tested = report.change?.headSha ?? report.pr.sha;
    if (change.event === 'workflow_run' && tested && tested !== headSha) {
      throw new UsageError(
        `a report from runner "${report.runner.name}" tested ${tested.slice(0, 12)}, ` +
          `but the workflow run that produced the artifact ran on ${headSha.slice(0, 12)}: refusing to post results for another commit`,
      );
    }
  }
  if (change.prNumber !== null) return { prNumber: change.prNumber, headSha, warnings };
  const claimed = [...new Set(reports.map((r) => r.change?.prNumber).filter((n): n is number => typeof n === 'number'))];
  if (claimed.length === 0) return { prNumber: null, headSha, warnings };
  if (claimed.length > 1)
    throw new UsageError(`the reports name different pull requests (${claimed.map((n) => `#${n}`).join(', ')}): merge reports of one PR only`);
  const number = claimed[0];
  if (change.event !== 'workflow_run') return { prNumber: number, headSha, warnings };
  if (!client) {
    warnings.push(`the reports name PR #${number}, but without a token it cannot be confirmed: no comment is posted`);
    return { prNumber: null, headSha, warnings };
  }
  const pull = await fetchPull(client, repo, number);
  if (pull.head.sha !== headSha) {
    warnings.push(
      `the reports name PR #${number}, whose head is ${pull.head.sha.slice(0, 12)}, not ${headSha.slice(0, 12)} (the commit the run tested): ` +
        `no comment is posted`,
    );
    return { prNumber: null, headSha, warnings };
  }
  return { prNumber: number, headSha, warnings };
}
