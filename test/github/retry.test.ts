import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeApiError } from '../../src/github/permissions.js';
import { upsertComment } from '../../src/github/comment.js';
import { useGitHubServer } from '../support/github-server.js';
import { testClient } from '../support/github-env.js';

const server = useGitHubServer();

const target = { owner: 'nic-lab', repo: 'kni-driver', issueNumber: 42, checkName: 'alloc-balance' };

describe('retries against the server', () => {
  it('retries a 502 and succeeds', async () => {
    server.inject('issues/create-comment', { status: 502, body: { message: 'Server Error' } });
    const log: string[] = [];
    const posted = await upsertComment(testClient(server.url, log), target, 'body');
    expect(posted.action).toBe('created');
    expect(server.calls('issues/create-comment')).toHaveLength(2);
    expect(server.state.comments.get('nic-lab/kni-driver#42')).toHaveLength(1);
    expect(log).toEqual([expect.stringMatching(/^POST .*comments: HTTP 502; retrying in 20 ms$/)]);
  });

  it('a 404 or a 422 is final: no retry', async () => {
    server.inject('issues/create-comment', { status: 422, body: { message: 'Validation Failed' } });
    const log: string[] = [];
    const error = await upsertComment(testClient(server.url, log), target, 'body').catch((e: Error) => e);
    expect((error as { status?: number }).status).toBe(422);
    expect(server.calls('issues/create-comment')).toHaveLength(1);
    expect(log).toEqual([]);
  });

  it('waits out a 429 with retry-after before retrying', async () => {
    server.inject('issues/list-comments', { status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit' } });
    const log: string[] = [];
    const posted = await upsertComment(testClient(server.url, log), target, 'body');
    expect(posted.action).toBe('created');
    const lists = server.calls('issues/list-comments');
    expect(lists).toHaveLength(2);
    expect(lists[1].at - lists[0].at).toBeGreaterThanOrEqual(1000);
    expect(log).toEqual([expect.stringMatching(/^GET .*comments.*: secondary rate limit; retrying in 1000 ms$/)]);
  });

  it('waits for x-ratelimit-reset when the quota is spent', async () => {
    const reset = Math.ceil(Date.now() / 1000);
    server.inject('issues/list-comments', {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: { message: 'API rate limit exceeded for installation ID 41230001.' },
    });
    await upsertComment(testClient(server.url), target, 'body');
    const lists = server.calls('issues/list-comments');
    expect(lists).toHaveLength(2);
    expect(lists[1].at).toBeGreaterThanOrEqual(reset * 1000);
  });

  it('a rate-limit reset further away than the step waits is reported, not waited for', async () => {
    server.inject('issues/list-comments', {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600) },
      body: { message: 'API rate limit exceeded for installation ID 41230001.' },
    });
    const started = Date.now();
    const error = await upsertComment(testClient(server.url), target, 'body').catch((e: Error) => e);
    expect((error as { status?: number }).status).toBe(403);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.calls('issues/list-comments')).toHaveLength(1);
  });

  it('gives up after the bounded number of attempts and says so', async () => {
    for (let i = 0; i < 4; i++) server.inject('issues/create-comment', { status: 503, body: { message: 'Service Unavailable' } });
    const error = await upsertComment(testClient(server.url), target, 'body').catch((e: Error) => e);
    expect((error as Error).message).toMatch(/gave up after 4 attempts/);
    expect(server.calls('issues/create-comment')).toHaveLength(4);
  });

  it('a connection refused is "no response", never "HTTP 500"', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const log: string[] = [];
    const error = await upsertComment(testClient(`http://127.0.0.1:${port}`, log), target, 'body').catch((e: Error) => e);
    expect(log).toHaveLength(3);
    for (const line of log) expect(line).toMatch(/^GET .*comments.*: no response; retrying in \d+ ms$/);
    expect(log.join('\n')).not.toMatch(/HTTP 500/);
    expect((error as Error).message).toMatch(/\(no response; gave up after 4 attempts\)$/);
    expect(describeApiError(error, 'Commenting on pull request #42', 'comment')).toMatch(
      /^Commenting on pull request #42 failed: .*no response; gave up after 4 attempts/,
    );
  });
});
