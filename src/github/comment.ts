// The one PR comment of a check: found by a hidden marker, created once, then updated in place.
// Being edited in place, there is never an older comment of the check to hide. Input `comment`
// decides when it is written: on-change compares a digest of the verdict line kept in a second
// hidden line; on-failure writes nothing for a pass unless a comment is already there (it is then
// updated, so that it never keeps showing an old failure).
import { createHash } from 'node:crypto';
import type { Verdict } from '../core/model.js';
import type { CommentWhen } from '../inputs/table.js';
import type { GitHubClient, RepoRef } from './client.js';
import { COMMENT_MAX_CHARS, truncateText } from '../report/truncate.js';

/** `<!-- alloc-balance:<check-name> -->`; the name is cleaned so that it cannot close the HTML comment. */
export function commentMarker(checkName: string): string {
  const name = checkName.replace(/--+/g, '-').replace(/[<>]/g, '').trim();
  return `<!-- alloc-balance:${name} -->`;
}

/** `<!-- alloc-balance-digest:… -->`: what on-change compares, the verdict and its line (figures included, not the run's links). */
export function digestLine(verdict: Verdict, headline: string): string {
  return `<!-- alloc-balance-digest:${createHash('sha256').update(`${verdict}\n${headline}`).digest('hex').slice(0, 16)} -->`;
}

/** The marker line (and the digest line when given), then the markdown, cut to GitHub's 65,536-character limit. */
export function commentBody(checkName: string, markdown: string, digest = ''): string {
  const head = digest ? `${commentMarker(checkName)}\n${digest}` : commentMarker(checkName);
  return `${head}\n${truncateText(markdown, COMMENT_MAX_CHARS - head.length - 1)}`;
}

interface CommentTarget extends RepoRef {
  issueNumber: number;
  checkName: string;
}

interface PostedComment {
  id: number;
  url: string;
  action: 'created' | 'updated' | 'unchanged';
}

/** What decides whether the comment is written (input `comment`). */
interface CommentPolicy {
  when: CommentWhen;
  verdict: Verdict;
  headline: string;
}

/** Finds this check's comment on the PR, following every page of the listing. */
async function findComment(client: GitHubClient, target: CommentTarget): Promise<{ id: number; url: string; body: string } | null> {
  const marker = commentMarker(target.checkName);
  const pages = client.paginate.iterator(client.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100,
  });
  for await (const page of pages) {
    for (const comment of page.data) {
      if (comment.body?.includes(marker)) return { id: comment.id, url: comment.html_url, body: comment.body };
    }
  }
  return null;
}

/** Updates this check's comment, or creates it when the PR has none yet. Returns its URL. */
export async function upsertComment(client: GitHubClient, target: CommentTarget, markdown: string): Promise<PostedComment> {
  return put(client, target, commentBody(target.checkName, markdown), await findComment(client, target));
}

/**
 * The comment as input `comment` wants it: written (created or updated), left as it is
 * (on-change, same digest), or not written at all (null: on-failure, a pass, no comment yet).
 */
export async function writeComment(client: GitHubClient, target: CommentTarget, markdown: string, policy: CommentPolicy): Promise<PostedComment | null> {
  const digest = digestLine(policy.verdict, policy.headline);
  const existing = await findComment(client, target);
  if (!existing && policy.when === 'on-failure' && policy.verdict === 'pass') return null;
  if (existing && policy.when === 'on-change' && existing.body.includes(digest)) return { id: existing.id, url: existing.url, action: 'unchanged' };
  return put(client, target, commentBody(target.checkName, markdown, digest), existing);
}

async function put(client: GitHubClient, target: CommentTarget, body: string, existing: { id: number } | null): Promise<PostedComment> {
  if (existing) {
    const { data } = await client.rest.issues.updateComment({
      owner: target.owner,
      repo: target.repo,
      comment_id: existing.id,
      body,
    });
    return { id: data.id, url: data.html_url, action: 'updated' };
  }
  const { data } = await client.rest.issues.createComment({
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    body,
  });
  return { id: data.id, url: data.html_url, action: 'created' };
}
