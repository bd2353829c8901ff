// Helpers for GitHub tests: event fixtures, a job-summary file, and a client that talks to the
// test server with short back-offs.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { createClient, type GitHubClient } from '../../src/github/client.js';
import type { EventContext } from '../../src/github/event.js';
import type { RetryPolicy } from '../../src/github/client.js';

export const EVENTS_DIR = fileURLToPath(new URL('../data/events/', import.meta.url));

export function eventPath(name: string): string {
  return join(EVENTS_DIR, `${name}.json`);
}

export function loadEvent(name: string): Record<string, any> {
  return JSON.parse(readFileSync(eventPath(name), 'utf8'));
}

/** The context the runner would give for fixture `name` of event `eventName`. */
export function eventContext(eventName: string, name: string, extra: Partial<EventContext> = {}): EventContext {
  return {
    eventName,
    payload: loadEvent(name),
    sha: 'c0ffee00d15ea5e0123456789abcdef012345678',
    ref: 'refs/heads/main',
    repository: 'nic-lab/kni-driver',
    ...extra,
  };
}

export const FAST_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 20, maxWaitMs: 5000, writeSpacingMs: 0, notifySpacingMs: 0 };

export function testClient(url: string, log: string[] = [], retry: RetryPolicy = FAST_RETRY): GitHubClient {
  return createClient({ token: 'ghs_test0000000000000000000000000000000', baseUrl: url, retry, log: (m) => log.push(m) });
}

let summaryDir = '';

/**
 * The GITHUB_STEP_SUMMARY file, emptied. @actions/core remembers the first path it sees for the
 * life of the process, and test files share their process (and their modules): every test file of
 * the process gets the same path, made before its tests and removed after them (nothing is made
 * while the tests are collected). Call it at the top of a test file.
 */
export function stepSummaryFile(): { path: string; read(): string; reset(): void } {
  summaryDir ||= join(tmpdir(), `alloc-balance-summary-${randomBytes(6).toString('hex')}`);
  const dir = summaryDir;
  const path = join(dir, 'step-summary.md');
  const before = process.env.GITHUB_STEP_SUMMARY;
  beforeAll(() => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path, '');
    process.env.GITHUB_STEP_SUMMARY = path;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (before === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = before;
  });
  return {
    path,
    read: () => readFileSync(path, 'utf8'),
    reset: () => writeFileSync(path, ''),
  };
}

export function recordingLog() {
  const infos: string[] = [];
  const warnings: string[] = [];
  return { infos, warnings, info: (m: string) => void infos.push(m), warning: (m: string) => void warnings.push(m) };
}
