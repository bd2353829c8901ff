// The main step as the runner starts it (inputs in INPUT_* variables, outputs in GITHUB_OUTPUT):
// a step that ends in an error, not a verdict, says `error`, never `fail`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InputError, UsageError, verdictOnError } from '../src/errors.js';
import { SafetyRefusal } from '../src/github/safety.js';
import { run } from '../src/main.js';
import { eventPath } from './support/github-env.js';
import { useTempDir } from './support/temp-dir.js';

const dir = useTempDir('alloc-balance-main-');

const saved = { ...process.env };
let stdout: string[] = [];

beforeEach(() => {
  for (const key of Object.keys(process.env))
    if (key.startsWith('INPUT_') || key.startsWith('GITHUB_') || key === 'RUNNER_ENVIRONMENT') delete process.env[key];
  writeFileSync(join(dir, 'output'), '');
  writeFileSync(join(dir, 'summary.md'), '');
  Object.assign(process.env, { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary.md'), GITHUB_WORKSPACE: dir });
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
  process.exitCode = undefined;
});

function outputs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of readFileSync(join(dir, 'output'), 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  return out;
}

function inputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) process.env[`INPUT_${name.toUpperCase()}`] = value;
}

/** A fork PR's event on a self-hosted runner, for the repository nic-lab/kni-driver. */
function forkPullRequest(repository = 'nic-lab/kni-driver'): void {
  Object.assign(process.env, {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath('pull_request_fork'),
    GITHUB_REPOSITORY: repository,
    RUNNER_ENVIRONMENT: 'self-hosted',
  });
}

describe('the step ended by an error', () => {
  it('a bad input: verdict error, the step failed with the input named, no stack trace', async () => {
    inputs({ mode: 'compare', workload: 'true' });
    await run();
    expect(outputs().verdict).toBe('error');
    expect(process.exitCode).toBe(1);
    const errors = stdout.join('').match(/^::error::.*$/gm);
    expect(errors).toEqual(['::error::input "mode": "compare" is not valid; expected one of full, collect, report']);
    expect(stdout.join('')).not.toMatch(/\n\s+at /);
  });

  it('a fork refused on a self-hosted runner in collect mode: verdict error, not fail', async () => {
    inputs({ mode: 'collect', workload: 'true' });
    forkPullRequest();
    await run();
    expect(outputs().verdict).toBe('error');
    expect(stdout.join('')).toMatch(/^::error::refusing to build and load fork code \(eve-contrib\/kni-driver@4e7d2c9a1b0f\) in collect mode/m);
  });

  it('any other exception: verdict error as well, its stack only in the debug log', async () => {
    inputs({ mode: 'collect', workload: 'true' });
    forkPullRequest('not a repository name');
    await run();
    expect(outputs().verdict).toBe('error');
    expect(stdout.join('')).toMatch(/^::error::"not a repository name" is not a repository name of the form owner\/name$/m);
    expect(stdout.join('')).toMatch(/^::debug::Error: "not a repository name" is not .*%0A\s+at /m);
  });

  it('a cancelled run is inconclusive unless the error is a configuration error', () => {
    expect(verdictOnError(new Error('the run was cancelled by SIGTERM'), true)).toBe('inconclusive');
    expect(verdictOnError(new Error('ENOSPC'), false)).toBe('error');
    expect(verdictOnError(new InputError('cycles', '0', 'a whole number from 1 to 1000'), true)).toBe('error');
    expect(verdictOnError(new UsageError('GITHUB_EVENT_NAME is not set'), true)).toBe('error');
    expect(verdictOnError(new SafetyRefusal('refusing'), false)).toBe('error');
  });
});
