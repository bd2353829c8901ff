// When to retry a GitHub API call, and how long to wait first. Pure: the caller sleeps.

export interface RetryPolicy {
  /** Total tries, the first included. */
  maxAttempts: number;
  /** First back-off after a 5xx or a network error; doubled on each further try. */
  baseDelayMs: number;
  /** Longest single wait, rate-limit resets included; a longer reset is reported, not waited for. */
  maxWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxWaitMs: 60_000 };

export interface FailedAttempt {
  /** HTTP status, or 0 when no response came (connection refused, reset). */
  status: number;
  headers: Record<string, string | number | undefined>;
  /** 1 for the first try. */
  attempt: number;
  /** Milliseconds since the epoch, for `x-ratelimit-reset`. */
  now: number;
}

export type RetryDecision = { retry: true; waitMs: number; why: string } | { retry: false; why?: string };

function header(headers: FailedAttempt['headers'], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return value === undefined ? undefined : String(value);
}

/** Seconds of `retry-after` (a number or an HTTP date), or of `x-ratelimit-reset` when the quota is spent. */
export function rateLimitWaitMs(headers: FailedAttempt['headers'], now: number): number | null {
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  if (header(headers, 'x-ratelimit-remaining') === '0') {
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    // One second of slack: the reset time is rounded down to whole seconds.
    if (Number.isFinite(reset)) return Math.max(0, reset * 1000 - now) + 1000;
  }
  return null;
}

export function decideRetry(failed: FailedAttempt, policy: RetryPolicy = DEFAULT_RETRY): RetryDecision {
  if (failed.attempt >= policy.maxAttempts) return { retry: false, why: `gave up after ${failed.attempt} attempts` };
  const { status } = failed;
  if (status === 403 || status === 429) {
    const wait = rateLimitWaitMs(failed.headers, failed.now);
    // A 403 without rate-limit headers is a permission error: retrying cannot help.
    if (wait === null) {
      if (status === 403) return { retry: false };
      return { retry: true, waitMs: Math.min(policy.maxWaitMs, backoff(failed.attempt, policy)), why: 'HTTP 429' };
    }
    if (wait > policy.maxWaitMs) {
      return { retry: false, why: `rate limited for ${Math.ceil(wait / 1000)} s, longer than the ${Math.round(policy.maxWaitMs / 1000)} s this step waits` };
    }
    return { retry: true, waitMs: wait, why: `rate limited (HTTP ${status})` };
  }
  if (status === 0 || status >= 500) {
    return { retry: true, waitMs: Math.min(policy.maxWaitMs, backoff(failed.attempt, policy)), why: status === 0 ? 'no response' : `HTTP ${status}` };
  }
  return { retry: false };
}

function backoff(attempt: number, policy: RetryPolicy): number {
  return policy.baseDelayMs * 2 ** (attempt - 1);
}
