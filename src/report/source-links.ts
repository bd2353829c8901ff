// Links from the report to GitHub: a call site's file:line in the PR head's source, a commit, the
// workflow run.

/** Where the PR head's source can be read on GitHub. */
export interface SourceRef {
  /** https://github.com, or a GitHub Enterprise Server's URL (GITHUB_SERVER_URL). */
  serverUrl: string;
  /** owner/name of the repository the head commit is in. */
  repo: string;
  sha: string;
}

export const DEFAULT_SERVER_URL = 'https://github.com';

function base(ref: Pick<SourceRef, 'serverUrl' | 'repo'>): string {
  return `${ref.serverUrl.replace(/\/+$/, '')}/${ref.repo}`;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * The blob URL with a line anchor for `path/file.c:123`, or null for a location that is not
 * `file:line` inside the repository (an absolute path: the file lay outside the checkout).
 */
export function sourceUrl(location: string, ref: SourceRef): string | null {
  const m = /^(.+):(\d+)$/.exec(location);
  if (!m || m[1].startsWith('/') || m[1].split('/').includes('..')) return null;
  return `${base(ref)}/blob/${ref.sha}/${encodePath(m[1].replace(/^\.\//, ''))}#L${m[2]}`;
}

export function commitUrl(sha: string, ref: Pick<SourceRef, 'serverUrl' | 'repo'>): string {
  return `${base(ref)}/commit/${sha}`;
}

/** The workflow run (GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID), when known. */
export function runUrl(env: NodeJS.ProcessEnv): string | null {
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return null;
  const attempt = env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '';
  return `${base({ serverUrl: env.GITHUB_SERVER_URL || DEFAULT_SERVER_URL, repo: env.GITHUB_REPOSITORY })}/actions/runs/${env.GITHUB_RUN_ID}${attempt}`;
}
