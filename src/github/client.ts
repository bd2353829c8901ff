// The GitHub REST client: @actions/github's Octokit pointed at GITHUB_API_URL, with bounded
// retries on 5xx and waits on rate limits wrapped around every request.
import { getOctokit } from '@actions/github';
import { DEFAULT_RETRY, decideRetry, type RetryPolicy } from './retry.js';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface ClientOptions {
  token: string;
  /** Default: GITHUB_API_URL, else https://api.github.com. */
  baseUrl?: string;
  retry?: RetryPolicy;
  /** Told about every retry (core.info in the action). */
  log?: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
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
  response?: { headers?: Record<string, string | number | undefined> };
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createClient(options: ClientOptions): GitHubClient {
  if (!options.token) throw new Error('no GitHub token: set the github-token input (default: github.token)');
  const baseUrl = (options.baseUrl || process.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const client = getOctokit(options.token, { baseUrl });
  const policy = options.retry ?? DEFAULT_RETRY;
  const sleep = options.sleep ?? realSleep;
  const log = options.log ?? (() => {});
  client.hook.wrap('request', async (request, requestOptions) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const failure = error as HttpFailure;
        if (typeof failure.status !== 'number') throw error;
        // Octokit reports a request that got no answer (DNS, refused, reset) as a 500 without a response.
        const status = failure.response === undefined ? 0 : failure.status;
        const decision = decideRetry({ status, headers: failure.response?.headers ?? {}, attempt, now: Date.now() }, policy);
        if (!decision.retry) {
          const why = [status === 0 ? 'no response' : '', decision.why ?? ''].filter((w) => w !== '').join('; ');
          if (why && error instanceof Error) error.message += ` (${why})`;
          if (status === 0) (error as HttpFailure).status = 0;
          throw error;
        }
        log(`${requestOptions.method} ${requestOptions.url}: ${decision.why}; retrying in ${Math.round(decision.waitMs)} ms`);
        await sleep(decision.waitMs);
      }
    }
  });
  return client;
}
