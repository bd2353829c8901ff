// The GitHub REST client: @actions/github's Octokit pointed at GITHUB_API_URL, with GitHub's own
// plugins for what the REST API asks of clients: @octokit/plugin-throttling (writes spaced, rate
// limits and secondary rate limits waited out) and @octokit/plugin-retry (5xx and no response).
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface RetryPolicy {
  /** Total tries, the first included. */
  maxAttempts: number;
  /** Unit of the retry plugin's back-off (1, 4, 9 ... units); rate-limit waits are the server's. */
  baseDelayMs: number;
  /** Longest rate-limit wait; a longer reset is reported, not waited for. */
  maxWaitMs: number;
  /** Time between two writes (GitHub asks for one second), and between two that notify (comments: three). */
  writeSpacingMs: number;
  notifySpacingMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxWaitMs: 60_000, writeSpacingMs: 1000, notifySpacingMs: 3000 };

interface ClientOptions {
  token: string;
  /** Default: GITHUB_API_URL, else https://api.github.com. */
  baseUrl?: string;
  retry?: RetryPolicy;
  /** Told about every retry (core.info in the action). */
  log?: (message: string) => void;
}

export interface RepoRef {
  owner: string;
  repo: string;
}

/** `owner/name` -> { owner, repo }; throws on anything else. */
export function parseRepo(fullName: string): RepoRef {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(fullName.trim());
  if (!m) throw new Error(`"${fullName}" is not a repository name of the form owner/name`);
  return { owner: m[1], repo: m[2] };
}

interface HttpFailure {
  status?: number;
  response?: unknown;
}

/** Octokit reports a request that got no answer (DNS, refused, reset) as a 500 without a response. */
function noResponse(error: unknown): boolean {
  const f = error as HttpFailure;
  return typeof f?.status === 'number' && f.response === undefined;
}

export function createClient(options: ClientOptions): GitHubClient {
  if (!options.token) throw new Error('no GitHub token: set the github-token input (default: github.token)');
  const baseUrl = (options.baseUrl || process.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const policy = options.retry ?? DEFAULT_RETRY;
  const log = options.log ?? (() => {});
  const retries = policy.maxAttempts - 1;
  const rateLimited = (kind: string) => (retryAfter: number, req: { method: string; url: string }, _octokit: unknown, count: number) => {
    if (count >= retries || retryAfter * 1000 > policy.maxWaitMs) return false;
    log(`${req.method} ${req.url}: ${kind}; retrying in ${Math.round(retryAfter * 1000)} ms`);
    return true;
  };
  // Each failed try, before the retry plugin decides: the line a log reader needs.
  const logFailures = (octokit: { hook: GitHubClient['hook'] }) => {
    octokit.hook.error('request', (error, req) => {
      const status = noResponse(error) ? 0 : ((error as HttpFailure).status ?? 0);
      const tries = (req.request as { retryCount?: number } | undefined)?.retryCount ?? 0;
      if ((status === 0 || status >= 500) && tries < retries) {
        const wait = (tries + 1) ** 2 * policy.baseDelayMs;
        log(`${req.method} ${req.url}: ${status === 0 ? 'no response' : `HTTP ${status}`}; retrying in ${wait} ms`);
      }
      throw error;
    });
  };
  const client = getOctokit(
    options.token,
    {
      baseUrl,
      retry: { retries, retryAfterBaseValue: policy.baseDelayMs, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      throttle: {
        onRateLimit: rateLimited('rate limited'),
        onSecondaryRateLimit: rateLimited('secondary rate limit'),
        retryAfterBaseValue: 1000,
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: policy.writeSpacingMs }),
        notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: policy.notifySpacingMs }),
      },
    },
    logFailures,
    retry,
    throttling,
  );
  // After the plugins gave up: say why, never "HTTP 500" for a request that got no answer.
  client.hook.wrap('request', async (request, requestOptions) => {
    try {
      return await request(requestOptions);
    } catch (error) {
      if (typeof (error as HttpFailure).status !== 'number') throw error;
      // The retry plugin counts its tries in request.retryCount (the first one included once it failed).
      const tries = Math.max(1, (requestOptions.request as { retryCount?: number } | undefined)?.retryCount ?? 0);
      const silent = noResponse(error);
      const why = [silent ? 'no response' : '', tries > 1 ? `gave up after ${tries} attempts` : ''].filter((w) => w !== '').join('; ');
      if (why && error instanceof Error) error.message += ` (${why})`;
      if (silent) (error as HttpFailure).status = 0;
      throw error;
    }
  });
  return client;
}
