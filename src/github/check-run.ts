// The check run on the head commit: verdict as conclusion, the table as summary, and one
// annotation per leaking call site, sent 50 per request as GitHub requires.
import type { Verdict } from '../core/model.js';
import type { InconclusiveConclusion } from '../inputs/table.js';
import type { GitHubClient, RepoRef } from './client.js';
import { CHECK_SUMMARY_MAX_CHARS, truncateText } from '../report/truncate.js';
import type { AnnotationInput } from '../report/annotations.js';

const ANNOTATIONS_PER_REQUEST = 50;

interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'failure' | 'warning' | 'notice';
  message: string;
  title?: string;
}

type Conclusion = 'success' | 'failure' | 'neutral';

/** `inconclusive`: the input of that name; neutral would let a required check pass on a run that measured nothing. */
export function conclusionFor(verdict: Verdict, inconclusive: InconclusiveConclusion = 'fail'): Conclusion {
  switch (verdict) {
    case 'pass':
      return 'success';
    case 'fail':
      return 'failure';
    case 'inconclusive':
      return inconclusive === 'neutral' ? 'neutral' : 'failure';
  }
}

export function toAnnotations(inputs: AnnotationInput[]): CheckAnnotation[] {
  return inputs
    .filter((a) => a.path.trim() !== '' && Number.isInteger(a.line) && a.line > 0)
    .map((a) => ({
      path: a.path.replace(/^\.\//, ''),
      start_line: a.line,
      end_line: a.line,
      annotation_level: a.level ?? 'failure',
      message: truncateText(a.message, 64 * 1024 - 1, 'the check summary'),
      ...(a.title ? { title: a.title.slice(0, 255) } : {}),
    }));
}

interface CheckRunInput extends RepoRef {
  name: string;
  headSha: string;
  verdict: Verdict;
  /** The conclusion of an inconclusive verdict (default fail). */
  inconclusive?: InconclusiveConclusion;
  /** The verdict line. */
  title: string;
  /** The table (markdown); cut to 65,535 characters. */
  summary: string;
  annotations: AnnotationInput[];
  detailsUrl?: string;
  /** A queued or in-progress check run of this name on the commit, to complete instead of creating another. */
  existingId?: number;
}

interface PostedCheckRun {
  id: number;
  url: string;
  conclusion: Conclusion;
  /** Requests that carried annotations: the create, then one PATCH per further batch of 50. */
  annotationRequests: number;
}

export async function publishCheckRun(client: GitHubClient, input: CheckRunInput): Promise<PostedCheckRun> {
  const annotations = toAnnotations(input.annotations);
  const batches: CheckAnnotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  const title = input.title.split('\n')[0].slice(0, 1000);
  const summary = truncateText(input.summary, CHECK_SUMMARY_MAX_CHARS, 'the job summary and the JSON report');
  const conclusion = conclusionFor(input.verdict, input.inconclusive);
  const completion = {
    owner: input.owner,
    repo: input.repo,
    status: 'completed' as const,
    conclusion,
    completed_at: new Date().toISOString(),
    ...(input.detailsUrl ? { details_url: input.detailsUrl } : {}),
    output: { title, summary, ...(batches[0] ? { annotations: batches[0] } : {}) },
  };
  const { data } =
    input.existingId === undefined
      ? await client.rest.checks.create({ ...completion, name: input.name, head_sha: input.headSha })
      : await client.rest.checks.update({ ...completion, check_run_id: input.existingId });
  for (const batch of batches.slice(1)) {
    await client.rest.checks.update({
      owner: input.owner,
      repo: input.repo,
      check_run_id: data.id,
      output: { title, summary, annotations: batch },
    });
  }
  return { id: data.id, url: data.html_url ?? '', conclusion, annotationRequests: batches.length };
}

/**
 * A check run named `name` on `headSha` that is queued or in progress (a placeholder a required
 * check shows as pending), leaving out the jobs of the workflow run `ownRunId`: a job's own check
 * run may carry the same name. The newest such run, or null.
 */
export async function findOpenCheckRun(client: GitHubClient, where: RepoRef & { name: string; headSha: string; ownRunId?: string }): Promise<number | null> {
  const runs = await client.paginate(client.rest.checks.listForRef, {
    owner: where.owner,
    repo: where.repo,
    ref: where.headSha,
    check_name: where.name,
    filter: 'all',
    per_page: 100,
  });
  const own = where.ownRunId ? `/actions/runs/${where.ownRunId}/` : null;
  const open = runs
    .filter((r) => r.name === where.name && r.status !== 'completed')
    .filter((r) => !(own && (r.details_url ?? '').includes(own)))
    .sort((a, b) => b.id - a.id);
  return open[0]?.id ?? null;
}
