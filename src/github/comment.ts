// The one PR comment of a check: found by a hidden marker, created once, then updated in place.
import type { GitHubClient, RepoRef } from './client.js';
import { COMMENT_MAX_CHARS, truncateText } from './truncate.js';

/** `<!-- alloc-balance:<check-name> -->`; the name is cleaned so that it cannot close the HTML comment. */
export function commentMarker(checkName: string): string {
  const name = checkName.replace(/--+/g, '-').replace(/[<>]/g, '').trim();
  return `<!-- alloc-balance:${name} -->`;
}

/** The marker line, then the markdown, cut to GitHub's 65,536-character limit. */
export function commentBody(checkName: string, markdown: string): string {
  const marker = commentMarker(checkName);
  return `${marker}\n${truncateText(markdown, COMMENT_MAX_CHARS - marker.length - 1)}`;
}

export interface CommentTarget extends RepoRef {
  issueNumber: number;
  checkName: string;
}

export interface PostedComment {
  id: number;
  url: string;
  action: 'created' | 'updated';
}

/** Finds this check's comment on the PR, following every page of the listing. */
export async function findComment(client: GitHubClient, target: CommentTarget): Promise<{ id: number; url: string } | null> {
  const marker = commentMarker(target.checkName);
  const pages = client.paginate.iterator(client.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100,
  });
  for await (const page of pages) {
    for (const comment of page.data) {
      if (comment.body?.includes(marker)) return { id: comment.id, url: comment.html_url };
    }
  }
  return null;
}

/** Updates this check's comment, or creates it when the PR has none yet. Returns its URL. */
export async function upsertComment(client: GitHubClient, target: CommentTarget, markdown: string): Promise<PostedComment> {
  const body = commentBody(target.checkName, markdown);
  const existing = await findComment(client, target);
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
