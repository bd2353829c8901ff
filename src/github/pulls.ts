// The facts about a pull request that the action needs, read from the REST API.
import type { GitHubClient, RepoRef } from './client.js';

interface PullFacts {
  number: number;
  state: string;
  head: { sha: string; ref: string; repo: string | null; pushedAt: string | null };
  base: { sha: string; ref: string; repo: string };
  labels: string[];
}

export async function fetchPull(client: GitHubClient, repo: RepoRef, number: number): Promise<PullFacts> {
  const { data } = await client.rest.pulls.get({ owner: repo.owner, repo: repo.repo, pull_number: number });
  return {
    number: data.number,
    state: data.state,
    head: {
      sha: data.head.sha,
      ref: data.head.ref,
      repo: data.head.repo?.full_name ?? null,
      pushedAt: data.head.repo?.pushed_at ?? null,
    },
    base: { sha: data.base.sha, ref: data.base.ref, repo: data.base.repo.full_name },
    labels: data.labels.map((l) => l.name ?? '').filter((n) => n !== ''),
  };
}

export interface IssueEventFacts {
  event: string;
  createdAt: string;
  label?: string;
}

/** Every event of the issue/PR timeline that the issue-events listing returns, all pages. */
export async function fetchIssueEvents(client: GitHubClient, repo: RepoRef, number: number): Promise<IssueEventFacts[]> {
  const events = await client.paginate(client.rest.issues.listEvents, {
    owner: repo.owner,
    repo: repo.repo,
    issue_number: number,
    per_page: 100,
  });
  return events.map((e) => {
    const label = (e as { label?: { name?: string } }).label?.name;
    return { event: e.event, createdAt: e.created_at, ...(label ? { label } : {}) };
  });
}
