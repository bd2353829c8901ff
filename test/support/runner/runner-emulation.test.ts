// The runner emulation that runs the documented workflows (test/support/runner), on workflows of
// bash steps, real git and real folders: expressions, if:, needs and the matrix, checkout's
// credentials, the artifacts' paths. The documented workflows themselves run in
// test/e2e/documented-workflows.vm.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { git } from '../action-harness.js';
import { downloadArtifact, uploadArtifact } from './artifacts.js';
import { condition, evaluate, ExpressionError, type ExpressionContext } from './expressions.js';
import { RunnerEmulation } from './runner-emulation.js';
import { useTempDir } from '../temp-dir.js';

const work = useTempDir('ab-runner-');
let repo: string;
let sha: string;

beforeAll(() => {
  repo = join(work, 'origin');
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  git(repo, ['config', 'uploadpack.allowAnySHA1InWant', 'true']);
  writeFileSync(join(repo, 'README'), 'fixture\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'one']);
  sha = git(repo, ['rev-parse', 'HEAD']);
});

const ctx = (status: ExpressionContext['status'] = 'success'): ExpressionContext => ({
  contexts: {
    github: { event: { workflow_run: { id: 7, conclusion: 'cancelled' }, pull_request: { number: 42 } }, token: 'ghs_x' },
    inputs: { 'pr-number': '' },
    matrix: { runner: 'nic-igb' },
    runner: { name: 'r1' },
  },
  status,
});

describe('expressions', () => {
  test('the forms the docs use', () => {
    expect(evaluate('github.event.pull_request.number', ctx())).toBe(42);
    expect(evaluate("github.event.workflow_run.conclusion != 'cancelled'", ctx())).toBe(false);
    expect(evaluate("github.event.workflow_run.conclusion == 'CANCELLED'", ctx())).toBe(true);
    expect(evaluate('inputs.pr-number', ctx())).toBe('');
    expect(evaluate('matrix.runner', ctx())).toBe('nic-igb');
    expect(condition('always()', ctx('failure'))).toBe(true);
    expect(condition(undefined, ctx('failure'))).toBe(false);
    expect(condition('${{ success() }}', ctx())).toBe(true);
    expect(condition("github.event.workflow_run.conclusion != 'cancelled'", ctx())).toBe(false);
  });

  test('what it cannot evaluate fails, naming it', () => {
    expect(() => evaluate("contains(github.event.pull_request.labels, 'x')", ctx())).toThrow(/function contains\(\)/);
    expect(() => evaluate('secrets.TOKEN', ctx())).toThrow(/no context "secrets"/);
    expect(() => evaluate('runner.arch', ctx())).toThrow(ExpressionError);
  });
});

describe('artifacts', () => {
  test('upload keeps paths below the patterns common ancestor, leaves hidden files out; download by pattern puts each in its own folder', async () => {
    const ws = join(work, 'ws-artifacts');
    mkdirSync(join(ws, 'out/base'), { recursive: true });
    writeFileSync(join(ws, 'out/report.json'), '{}');
    writeFileSync(join(ws, 'out/base/status.json'), '{}');
    writeFileSync(join(ws, 'out/.hidden'), 'x');
    const store = join(work, 'store');
    await uploadArtifact(ws, store, { name: 'a-1', path: 'out/' });
    expect(readdirSync(join(store, 'a-1')).sort()).toEqual(['base', 'report.json']);
    await uploadArtifact(ws, store, { name: 'a-2', path: 'out/report.json' });
    expect(readdirSync(join(store, 'a-2'))).toEqual(['report.json']);
    await expect(uploadArtifact(ws, store, { name: 'a-2', path: 'out/' })).rejects.toThrow(/already created/);

    const into = join(work, 'ws-download');
    downloadArtifact(into, { current: store, ofRun: () => '' }, { pattern: 'a-*', path: 'reports' });
    expect(readdirSync(join(into, 'reports')).sort()).toEqual(['a-1', 'a-2']);
    downloadArtifact(into, { current: store, ofRun: () => '' }, { pattern: 'a-*', path: 'merged', 'merge-multiple': 'true' });
    expect(readdirSync(join(into, 'merged')).sort()).toEqual(['base', 'report.json']);
    expect(() => downloadArtifact(into, { current: store, ofRun: () => store }, { 'run-id': '1' })).toThrow(/github-token/);
  });
});

describe('a workflow of bash steps', () => {
  test('matrix, needs, if and step outputs; checkout at the event commit keeps the token unless persist-credentials is false', async () => {
    const runner = new RunnerEmulation({
      work: join(work, 'runner'),
      repository: 'o/r',
      fixtureRepo: repo,
      defaultBranchSha: sha,
      apiUrl: 'http://127.0.0.1:9',
    });
    const run = await runner.run(
      `name: t
on: workflow_dispatch
jobs:
  a:
    strategy:
      matrix:
        n: [one, two]
    runs-on: [self-hosted, '\${{ matrix.n }}']
    steps:
      - uses: actions/checkout@v5
      - id: s
        run: |
          echo "v=$RUNNER_NAME-$RUNNER_ENVIRONMENT" >> "$GITHUB_OUTPUT"
          git config --get http.https://github.com/.extraheader
          test "\${{ matrix.n }}" != two
  b:
    needs: a
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  c:
    needs: a
    if: always()
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - run: git config --get http.https://github.com/.extraheader || echo none
`,
      { name: 'workflow_dispatch', payload: { inputs: {} }, sha, ref: 'refs/heads/main' },
    );
    expect(run.jobs.map((j) => [j.name, j.result])).toEqual([
      ['a (one)', 'success'],
      ['a (two)', 'failure'],
      ['b', 'skipped'],
      ['c', 'success'],
    ]);
    const [one] = run.jobs;
    expect(one.steps[1].outputs.v).toBe('one-self-hosted');
    const header = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${run.token}`).toString('base64')}`;
    expect(one.steps[1].log).toContain(header);
    expect(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: one.workspace, encoding: 'utf8' }).trim()).toBe(sha);
    expect(run.jobs[3].steps[1].log.trim()).toBe('none');
    expect(readFileSync(join(run.jobs[3].workspace, '.git/config'), 'utf8')).not.toContain('extraheader');
    expect(run.conclusion).toBe('failure');
  });

  test('an action the emulation does not know fails the run, naming it', async () => {
    const runner = new RunnerEmulation({
      work: join(work, 'runner2'),
      repository: 'o/r',
      fixtureRepo: repo,
      defaultBranchSha: sha,
      apiUrl: 'http://127.0.0.1:9',
    });
    await expect(
      runner.run('on: workflow_dispatch\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/cache@v4\n', {
        name: 'workflow_dispatch',
        payload: {},
        sha,
        ref: 'refs/heads/main',
      }),
    ).rejects.toThrow(/does not know the action actions\/cache@v4/);
  });
});
