// Whether this run may build and load the PR's code. A fork PR can carry arbitrary code, and
// loading a module runs it as root in the kernel: on a self-hosted runner that is the machine
// itself. See docs/workflows.md#fork-pull-requests for the rules written here.
import type { Mode } from '../inputs/table.js';
import { UsageError } from '../errors.js';
import type { GitHubClient, RepoRef } from './client.js';
import type { ChangeUnderTest } from './event.js';
import { fetchIssueEvents, fetchPull, type IssueEventFacts } from './pulls.js';

const FORK_DOCS = 'docs/workflows.md#fork-pull-requests';

/** What the API says about the PR now, for the approval-label rule. */
interface ApprovalFacts {
  currentHeadSha: string;
  /** `pushed_at` of the head repository: GitHub's own time of the last push to it (null: fork deleted). */
  headPushedAt: string | null;
  labels: string[];
  events: IssueEventFacts[];
}

interface SafetyFacts {
  mode: Mode;
  /** RUNNER_ENVIRONMENT: github-hosted or self-hosted ('' counts as self-hosted). */
  runnerEnvironment: string;
  allowForkCode: boolean;
  approvalLabel: string;
  change: ChangeUnderTest;
  /** Needed only when an approval label is checked against the API. */
  approval?: ApprovalFacts;
}

type SafetyDecision = { allowed: true; why: string; warnings: string[] } | { allowed: false; why: string };

export class SafetyRefusal extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'SafetyRefusal';
  }
}

interface Approval {
  approved: boolean;
  why: string;
}

/**
 * The approval label approves one head SHA:
 * 1. a run started by applying the label (`labeled`) approves the head SHA in that event's
 *    payload, GitHub's record of the head at the moment of labeling; that SHA is what gets built;
 * 2. any other run counts the label only when it is on the PR now, the PR's head is still the SHA
 *    this run tests, and the label was applied after the last push to the head repository
 *    (its server-side `pushed_at`, which a pusher cannot set) and after any force-push;
 * 3. a push (`synchronize`) always needs the label applied again.
 */
function approvalStatus(label: string, change: ChangeUnderTest, facts: ApprovalFacts | undefined): Approval {
  if (change.action === 'labeled' && change.label === label && change.event.startsWith('pull_request')) {
    return { approved: true, why: `label "${label}" was applied to ${change.head.sha.slice(0, 12)} (this run's trigger)` };
  }
  if (change.action === 'synchronize') {
    return { approved: false, why: `new commits were pushed; apply the label "${label}" again to approve ${change.head.sha.slice(0, 12)}` };
  }
  if (!facts) return { approved: false, why: `the PR's labels and events could not be read` };
  if (!facts.labels.includes(label)) return { approved: false, why: `the PR does not carry the label "${label}"` };
  if (facts.currentHeadSha !== change.head.sha) {
    return { approved: false, why: `the PR's head moved to ${facts.currentHeadSha.slice(0, 12)} after this run was triggered` };
  }
  const labeled = facts.events.filter((e) => e.event === 'labeled' && e.label === label).map((e) => Date.parse(e.createdAt));
  if (labeled.length === 0) return { approved: false, why: `no "labeled" event for "${label}" in the PR's events` };
  const labeledAt = Math.max(...labeled);
  if (facts.headPushedAt === null) return { approved: false, why: `the head repository is gone, so the time of its last push is unknown` };
  const pushes = [Date.parse(facts.headPushedAt), ...facts.events.filter((e) => e.event === 'head_ref_force_pushed').map((e) => Date.parse(e.createdAt))];
  const lastPush = Math.max(...pushes);
  if (!(labeledAt > lastPush)) {
    return {
      approved: false,
      why:
        `the label "${label}" (${new Date(labeledAt).toISOString()}) predates the last push to the head (${new Date(lastPush).toISOString()}); ` +
        `apply it again to approve ${change.head.sha.slice(0, 12)}`,
    };
  }
  return { approved: true, why: `label "${label}" applied ${new Date(labeledAt).toISOString()}, after the last push to the head` };
}

export function decideSafety(facts: SafetyFacts): SafetyDecision {
  const { change, mode } = facts;
  if (mode === 'report') return { allowed: true, why: 'report mode reads JSON reports and checks out no code', warnings: [] };
  if (!change.isFork) return { allowed: true, why: 'the head is in this repository', warnings: [] };
  const head = `${change.headRepo || 'a deleted fork'}@${change.head.sha.slice(0, 12)}`;
  const selfHosted = facts.runnerEnvironment !== 'github-hosted';
  if (change.event === 'pull_request_target' && !facts.allowForkCode) {
    return {
      allowed: false,
      why:
        `refusing to check out ${head} under pull_request_target: this event runs with the base repository's token and secrets. ` +
        `Use the pull_request event with mode: collect and post from workflow_run with mode: report (${FORK_DOCS}), or set allow-fork-code: true.`,
    };
  }
  if (!selfHosted) {
    if (mode === 'collect')
      return { allowed: true, why: 'collect mode on a GitHub-hosted runner: no write access, the runner is discarded after the job', warnings: [] };
    if (change.event !== 'pull_request_target') return { allowed: true, why: 'a GitHub-hosted runner is discarded after the job', warnings: [] };
  }
  // A self-hosted runner outlives the job: in any mode that checks the head out, fork code needs a maintainer's yes.
  const refused = `refusing to build and load fork code (${head}) in ${mode} mode on a self-hosted runner`;
  const hosted = `run mode: collect with target: vm on a GitHub-hosted runner and post with mode: report from a workflow_run workflow (${FORK_DOCS})`;
  if (facts.approvalLabel !== '') {
    const approval = approvalStatus(facts.approvalLabel, change, facts.approval);
    if (approval.approved) return { allowed: true, why: approval.why, warnings: [] };
    return {
      allowed: false,
      why:
        `${refused}: ${approval.why}. ` +
        `A maintainer approves one head commit by applying the label "${facts.approvalLabel}" after reviewing it; or ${hosted}.`,
    };
  }
  if (facts.allowForkCode) return { allowed: true, why: 'allow-fork-code is true', warnings: [] };
  return {
    allowed: false,
    why: `${refused}: a fork PR could run anything as root here. To test it: ${hosted}; or gate it with approval-label; or set allow-fork-code: true.`,
  };
}

/** True when the decision needs the PR's labels and events from the API. */
function needsApprovalFacts(facts: Omit<SafetyFacts, 'approval'>): boolean {
  const { change } = facts;
  return (
    facts.mode !== 'report' &&
    change.isFork &&
    facts.approvalLabel !== '' &&
    change.prNumber !== null &&
    !(change.action === 'labeled' && change.label === facts.approvalLabel) &&
    change.action !== 'synchronize'
  );
}

async function readApprovalFacts(client: GitHubClient, repo: RepoRef, prNumber: number): Promise<ApprovalFacts> {
  const [pull, events] = await Promise.all([fetchPull(client, repo, prNumber), fetchIssueEvents(client, repo, prNumber)]);
  return { currentHeadSha: pull.head.sha, headPushedAt: pull.head.pushedAt, labels: pull.labels, events };
}

/** Decides, reading the PR from the API when an approval label has to be checked; throws SafetyRefusal. */
export async function assertSafeToRun(
  client: GitHubClient | null,
  repo: RepoRef,
  facts: Omit<SafetyFacts, 'approval'>,
): Promise<{ why: string; warnings: string[] }> {
  let approval: ApprovalFacts | undefined;
  if (needsApprovalFacts(facts) && client && facts.change.prNumber !== null) {
    approval = await readApprovalFacts(client, repo, facts.change.prNumber);
  }
  const decision = decideSafety({ ...facts, approval });
  if (!decision.allowed) throw new SafetyRefusal(decision.why);
  return { why: decision.why, warnings: decision.warnings };
}
