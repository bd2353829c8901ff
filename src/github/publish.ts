// Posts the outcome where users look: the PR comment, the check run and the job summary. A
// failed post (read-only token on a fork PR, GitHub down) becomes a warning and a note in the
// job summary; it never changes or hides the verdict.
import type { Verdict } from '../core/model.js';
import type { CommentWhen, InconclusiveConclusion } from '../inputs/table.js';
import { findOpenCheckRun, publishCheckRun } from './check-run.js';
import type { AnnotationInput } from '../report/annotations.js';
import type { GitHubClient, RepoRef } from './client.js';
import { writeComment } from './comment.js';
import { describeApiError } from './permissions.js';
import { writeJobSummary } from './summary.js';

interface PublishLog {
  info(message: string): void;
  warning(message: string): void;
}

interface PublishRequest {
  repo: RepoRef;
  checkName: string;
  /** null: no PR to comment on (push, dispatch without pr-number). */
  prNumber: number | null;
  /** Commit the check run is attached to; null: no check run. */
  headSha: string | null;
  verdict: Verdict;
  /** The check run's conclusion of an inconclusive verdict (input `inconclusive`; default fail). */
  inconclusive?: InconclusiveConclusion;
  /** The verdict line (check run title). */
  headline: string;
  /** The rendered report (comment body, check summary, job summary). */
  markdown: string;
  /** Input `comment`: always (default), on-change, on-failure. */
  comment?: CommentWhen;
  annotations: AnnotationInput[];
  /** Details link of the check run (the workflow run). */
  detailsUrl?: string;
  /**
   * report mode: complete a queued or in-progress check run of this name on the commit instead of
   * creating a second one; `ownRunId` (GITHUB_RUN_ID) keeps this workflow run's own jobs out.
   */
  completeOpenCheckRun?: { ownRunId?: string };
}

interface PublishOutcome {
  verdict: Verdict;
  commentUrl: string | null;
  checkRunUrl: string | null;
  warnings: string[];
}

/** `client` null: nothing is posted to GitHub (no token); the job summary is still written. */
export async function publishResults(client: GitHubClient | null, request: PublishRequest, log: PublishLog): Promise<PublishOutcome> {
  const outcome: PublishOutcome = { verdict: request.verdict, commentUrl: null, checkRunUrl: null, warnings: [] };
  const warn = (message: string) => {
    outcome.warnings.push(message);
    log.warning(message);
  };
  if (client && request.prNumber !== null) {
    try {
      const target = { ...request.repo, issueNumber: request.prNumber, checkName: request.checkName };
      const when = request.comment ?? 'always';
      const posted = await writeComment(client, target, request.markdown, { when, verdict: request.verdict, headline: request.headline });
      if (posted === null) log.info(`PR comment: none written (comment: ${when}, verdict ${request.verdict}, no earlier comment)`);
      else {
        outcome.commentUrl = posted.url;
        const how = posted.action === 'unchanged' ? 'left as it was (comment: on-change, the same verdict and figures)' : posted.action;
        log.info(`PR comment ${how}: ${posted.url}`);
      }
    } catch (error) {
      warn(describeApiError(error, `Commenting on pull request #${request.prNumber}`, 'comment'));
    }
  }
  if (client && request.headSha) {
    try {
      const open = request.completeOpenCheckRun;
      const existingId = open
        ? await findOpenCheckRun(client, { ...request.repo, name: request.checkName, headSha: request.headSha, ownRunId: open.ownRunId })
        : null;
      const run = await publishCheckRun(client, {
        ...request.repo,
        name: request.checkName,
        headSha: request.headSha,
        verdict: request.verdict,
        inconclusive: request.inconclusive,
        title: request.headline,
        summary: request.markdown,
        annotations: request.annotations,
        detailsUrl: request.detailsUrl,
        ...(existingId !== null ? { existingId } : {}),
      });
      outcome.checkRunUrl = run.url;
      const how = existingId !== null ? ' (the open one completed)' : '';
      log.info(`check run "${request.checkName}" ${run.conclusion} on ${request.headSha.slice(0, 12)}${how}: ${run.url}`);
    } catch (error) {
      warn(describeApiError(error, `Creating the check run "${request.checkName}"`, 'checkRun'));
    }
  }
  await writeJobSummary(request.markdown, outcome.warnings);
  return outcome;
}
