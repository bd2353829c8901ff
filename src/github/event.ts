// What to compare, from the event that started the workflow (GITHUB_EVENT_NAME and the payload
// at GITHUB_EVENT_PATH) and the base-ref / head-ref / pr-number inputs.
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../errors.js';
import { parseRepo, type GitHubClient } from './client.js';
import { fetchPull } from './pulls.js';

const SUPPORTED_EVENTS = ['pull_request', 'pull_request_target', 'merge_group', 'workflow_dispatch', 'push', 'workflow_run'] as const;
type SupportedEvent = (typeof SUPPORTED_EVENTS)[number];

export interface Revision {
  /** Branch, tag or ref name as given; the SHA when nothing else is known. */
  ref: string;
  /** Full commit SHA; '' when only `ref` is known (git resolves it when the worktree is made). */
  sha: string;
}

export interface ChangeUnderTest {
  event: SupportedEvent;
  /** The payload's `action` (opened, synchronize, labeled, ...); '' when the event has none. */
  action: string;
  /** owner/name of the repository the workflow runs in. */
  repository: string;
  base: Revision;
  head: Revision;
  prNumber: number | null;
  /** The head comes from another repository than the base. */
  isFork: boolean;
  /** owner/name of the repository holding the head ('' when the fork was deleted). */
  headRepo: string;
  /** The label just applied (`labeled` action). */
  label?: string;
  /** workflow_run: the run that produced the reports. */
  workflowRun?: { id: number; event: string; headSha: string; headRepo: string; conclusion: string | null };
}

export interface EventContext {
  eventName: string;
  payload: Record<string, unknown>;
  /** GITHUB_SHA */
  sha: string;
  /** GITHUB_REF */
  ref: string;
  /** GITHUB_REPOSITORY */
  repository: string;
}

/** Reads the event the way the runner provides it. */
export function readEventContext(env: NodeJS.ProcessEnv = process.env): EventContext {
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  if (eventName === '') throw new UsageError('GITHUB_EVENT_NAME is not set: this step must run inside a GitHub Actions workflow');
  const path = env.GITHUB_EVENT_PATH ?? '';
  let payload: Record<string, unknown> = {};
  if (path !== '') {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new UsageError(`GITHUB_EVENT_PATH ${path} cannot be read: ${(e as Error).message}`);
    }
    try {
      payload = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`GITHUB_EVENT_PATH ${path} is not JSON: ${(e as Error).message}`);
    }
  }
  const repository = env.GITHUB_REPOSITORY || str(obj(payload.repository)?.full_name) || '';
  return { eventName, payload, sha: env.GITHUB_SHA ?? '', ref: env.GITHUB_REF ?? '', repository };
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Reads a dotted path of the payload; a missing field is an error naming the event and the field. */
function field(payload: Json, event: string, path: string): string {
  let value: unknown = payload;
  for (const key of path.split('.')) value = obj(value)?.[key];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '') {
    throw new UsageError(`the ${event} event payload has no ${path}: is GITHUB_EVENT_PATH the payload of this event?`);
  }
  return value;
}

const ZERO_SHA = /^0+$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/i;

function revision(refOrSha: string): Revision {
  return SHA.test(refOrSha) ? { ref: refOrSha, sha: refOrSha.toLowerCase() } : { ref: refOrSha, sha: '' };
}

/** The base-ref, head-ref and pr-number inputs, as the settings hold them. */
interface ChangeInputs {
  baseRef: string;
  headRef: string;
  prNumber: number | null;
}

/** What every event's change starts from: the event, its action and the repository. */
type Common = Pick<ChangeUnderTest, 'event' | 'action' | 'repository'>;

/**
 * Resolves the base and head to compare. `client` is needed only for workflow_dispatch with a
 * pr-number (the PR's SHAs are read from the API).
 */
export async function resolveChange(ctx: EventContext, inputs: ChangeInputs, client: GitHubClient | null): Promise<ChangeUnderTest> {
  const event = ctx.eventName;
  if (!(SUPPORTED_EVENTS as readonly string[]).includes(event)) {
    throw new UsageError(
      `the ${event} event is not supported: run this action on ${SUPPORTED_EVENTS.join(', ')} (docs/workflows.md shows a workflow for each)`,
    );
  }
  if (ctx.repository === '') throw new UsageError('GITHUB_REPOSITORY is not set: this step must run inside a GitHub Actions workflow');
  const common: Common = { event: event as SupportedEvent, action: str(ctx.payload.action) ?? '', repository: ctx.repository };
  switch (common.event) {
    case 'pull_request':
    case 'pull_request_target':
      return fromPullRequest(ctx, inputs, common);
    case 'workflow_dispatch':
      return fromDispatch(ctx, inputs, common, client);
    case 'push':
      return fromPush(ctx, inputs, common);
    case 'merge_group':
      return fromMergeGroup(ctx, inputs, common);
    case 'workflow_run':
      return fromWorkflowRun(ctx, inputs, common);
  }
}

function fromPullRequest(ctx: EventContext, inputs: ChangeInputs, common: Common): ChangeUnderTest {
  const p = ctx.payload;
  const { event, action } = common;
  const prNumber = Number(field(p, event, 'pull_request.number'));
  const headRepo = str(obj(obj(obj(p.pull_request)?.head)?.repo)?.full_name) ?? '';
  const baseRepo = field(p, event, 'pull_request.base.repo.full_name');
  const label = str(obj(p.label)?.name);
  return {
    ...common,
    base: inputs.baseRef ? revision(inputs.baseRef) : { ref: field(p, event, 'pull_request.base.ref'), sha: field(p, event, 'pull_request.base.sha') },
    head: { ref: field(p, event, 'pull_request.head.ref'), sha: field(p, event, 'pull_request.head.sha') },
    prNumber,
    // A deleted fork has no head repository: treat it as foreign code.
    isFork: headRepo.toLowerCase() !== baseRepo.toLowerCase(),
    headRepo,
    ...(action === 'labeled' && label ? { label } : {}),
  };
}

async function fromDispatch(ctx: EventContext, inputs: ChangeInputs, common: Common, client: GitHubClient | null): Promise<ChangeUnderTest> {
  if (inputs.prNumber !== null) {
    if (!client) throw new UsageError('workflow_dispatch with pr-number reads the PR from the GitHub API: set github-token');
    const pull = await fetchPull(client, parseRepo(ctx.repository), inputs.prNumber);
    const headRepo = pull.head.repo ?? '';
    return {
      ...common,
      base: inputs.baseRef ? revision(inputs.baseRef) : { ref: pull.base.ref, sha: pull.base.sha },
      head: inputs.headRef ? revision(inputs.headRef) : { ref: pull.head.ref, sha: pull.head.sha },
      prNumber: pull.number,
      isFork: headRepo.toLowerCase() !== pull.base.repo.toLowerCase(),
      headRepo,
    };
  }
  if (!inputs.baseRef) {
    throw new InputError('base-ref', '', 'a commit or ref to compare against, or pr-number (workflow_dispatch needs one of them)');
  }
  return {
    ...common,
    base: revision(inputs.baseRef),
    head: inputs.headRef ? revision(inputs.headRef) : { ref: ctx.ref || ctx.sha, sha: ctx.sha },
    prNumber: null,
    isFork: false,
    headRepo: ctx.repository,
  };
}

function fromPush(ctx: EventContext, inputs: ChangeInputs, common: Common): ChangeUnderTest {
  const p = ctx.payload;
  const after = str(p.after) ?? ctx.sha;
  if (!after || ZERO_SHA.test(after)) throw new UsageError('the push deleted a branch: there is no head commit to test');
  const before = str(p.before) ?? '';
  if (!inputs.baseRef && (before === '' || ZERO_SHA.test(before))) {
    throw new InputError('base-ref', '', 'a commit or ref to compare against: this push created a new branch, so it has no previous commit');
  }
  return {
    ...common,
    base: inputs.baseRef ? revision(inputs.baseRef) : { ref: before, sha: before },
    head: { ref: str(p.ref) ?? ctx.ref ?? after, sha: after },
    prNumber: inputs.prNumber,
    isFork: false,
    headRepo: ctx.repository,
  };
}

/** A merge queue tests the queue's merge commit against the base branch: no PR of its own, and the head is a branch GitHub made in this repository. */
function fromMergeGroup(ctx: EventContext, inputs: ChangeInputs, common: Common): ChangeUnderTest {
  const p = ctx.payload;
  const { event } = common;
  return {
    ...common,
    base: inputs.baseRef ? revision(inputs.baseRef) : { ref: field(p, event, 'merge_group.base_ref'), sha: field(p, event, 'merge_group.base_sha') },
    head: { ref: field(p, event, 'merge_group.head_ref'), sha: field(p, event, 'merge_group.head_sha') },
    prNumber: null,
    isFork: false,
    headRepo: ctx.repository,
  };
}

function fromWorkflowRun(ctx: EventContext, inputs: ChangeInputs, common: Common): ChangeUnderTest {
  const p = ctx.payload;
  const { event } = common;
  const run = obj(p.workflow_run) ?? {};
  const headSha = field(p, event, 'workflow_run.head_sha');
  const headRepo = str(obj(run.head_repository)?.full_name) ?? '';
  const pulls = Array.isArray(run.pull_requests) ? (run.pull_requests as unknown[]).map(obj) : [];
  // GitHub lists no pull_requests for runs of fork PRs: then the number comes from the input or the reports.
  const pull = pulls.find((pr) => str(obj(pr?.head)?.sha) === headSha) ?? pulls[0];
  const baseSha = str(obj(pull?.base)?.sha) ?? '';
  return {
    ...common,
    base: inputs.baseRef ? revision(inputs.baseRef) : { ref: str(obj(pull?.base)?.ref) ?? baseSha, sha: baseSha },
    head: { ref: str(run.head_branch) ?? headSha, sha: headSha },
    prNumber: inputs.prNumber ?? (typeof pull?.number === 'number' ? pull.number : null),
    isFork: headRepo.toLowerCase() !== ctx.repository.toLowerCase(),
    headRepo,
    workflowRun: {
      id: Number(field(p, event, 'workflow_run.id')),
      event: str(run.event) ?? '',
      headSha,
      headRepo,
      conclusion: str(run.conclusion) ?? null,
    },
  };
}
