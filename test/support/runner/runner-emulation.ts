// A GitHub Actions runner for the project's documented workflows, on this machine. It reads a
// workflow as written, checks that the event triggers it, expands `strategy.matrix`, orders the
// jobs by `needs`, evaluates every `${{ }}` and `if:`, and runs each step:
//   - `actions/checkout@*`: a clone of the local fixture repository at the event's commit
//     (checkout.ts);
//   - `actions/upload-artifact@v4`, `actions/download-artifact@v4`: folders of the run
//     (artifacts.ts);
//   - `<owner>/alloc-balance@*`, `OWNER/alloc-balance@*`, `./`: this repository's bundle, main
//     step then post step at the job's end, with the runner's environment (INPUT_* with
//     action.yml's defaults, the event file, GITHUB_OUTPUT/STEP_SUMMARY/STATE, the GitHub API on
//     127.0.0.1); with `target: host` on the kernel of a lab VM (guest-action.ts);
//   - `run:`: bash, as the runner's default shell runs it.
// Every runs-on label is served here; RUNNER_ENVIRONMENT is github-hosted for ubuntu-* labels and
// self-hosted otherwise. Anything the emulation does not know - an action, an input of a known
// action, an expression - throws, naming it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { LabKernel } from '../../../src/lab/lab-kernel.js';
import { NODE24, ROOT, actionBundle, actionDefaults } from '../action-harness.js';
import { downloadArtifact, uploadArtifact } from './artifacts.js';
import { checkout } from './checkout.js';
import { condition, type ExpressionContext, interpolate, toText, type Value } from './expressions.js';
import { runActionInGuest } from './guest-action.js';

type Json = Record<string, any>;

export interface RunnerSetup {
  /** Every run's folder is made in here (shared read-write with the lab VMs). */
  work: string;
  /** `owner/name` of the repository the workflows belong to. */
  repository: string;
  /** The local git repository that https://github.com/<repository> stands for. */
  fixtureRepo: string;
  /** The default branch's commit (GITHUB_SHA of workflow_run runs). */
  defaultBranchSha: string;
  /** The GitHub REST API the steps talk to. */
  apiUrl: string;
  /** The lab kernel that serves `target: host` steps. */
  kernel?: LabKernel;
  /** More environment for every step (e.g. the Actions cache service). */
  env?: Record<string, string>;
}

export interface Trigger {
  name: string;
  payload: Json;
  /** GITHUB_SHA and GITHUB_REF. */
  sha: string;
  ref: string;
}

export interface StepRun {
  label: string;
  outcome: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  log: string;
  /** Action steps: the step's summary, and its folder (inputs, state, logs). */
  summary: string;
  /** Steps whose action ran in a lab VM: how long the VM ran. */
  vmSeconds?: number;
}

export interface JobRun {
  /** The job's id, and its matrix values when it has one. */
  id: string;
  name: string;
  matrix: Record<string, Value>;
  runsOn: string[];
  runnerName: string;
  runnerEnvironment: 'github-hosted' | 'self-hosted';
  result: 'success' | 'failure' | 'skipped';
  steps: StepRun[];
  outputs: Record<string, string>;
  workspace: string;
  /** Everything the job printed, for assertion messages. */
  log: string;
}

export interface WorkflowRun {
  id: number;
  name: string;
  trigger: Trigger;
  conclusion: 'success' | 'failure';
  jobs: JobRun[];
  /** One folder per artifact. */
  artifacts: string;
  token: string;
  seconds: number;
}

const DEFAULT_PR_TYPES = ['opened', 'synchronize', 'reopened'];
const ACTION_INPUTS = new Set(Object.keys(actionDefaults()));

function labelList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

function parseOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  for (const m of text.matchAll(/^([\w-]+)=(.*)$/gm)) out[m[1]] = m[2];
  return out;
}

function spawnLogged(argv: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<{ code: number | null; log: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, log });
    });
  });
}

export class RunnerEmulation {
  readonly runs = new Map<number, WorkflowRun>();
  private nextRunId = 14_120_386_231;
  private jobCount = 0;
  private readonly gitConfig: string;
  private readonly home: string;

  constructor(readonly setup: RunnerSetup) {
    mkdirSync(setup.work, { recursive: true });
    this.home = join(setup.work, 'runner-home');
    mkdirSync(this.home, { recursive: true });
    // The runner's git finds github.com/<repository> in the local fixture repository.
    this.gitConfig = join(setup.work, 'runner-gitconfig');
    writeFileSync(
      this.gitConfig,
      `[url "file://${setup.fixtureRepo}"]\n\tinsteadOf = https://github.com/${setup.repository}\n[safe]\n\tdirectory = *\n[user]\n\tname = runner\n\temail = runner@example.invalid\n`,
    );
  }

  /** Whether `on:` starts this workflow for the event; throws on a trigger the emulation does not know. */
  private triggered(on: unknown, t: Trigger, workflowName: string): boolean {
    const triggers: Record<string, Json | null> =
      typeof on === 'string' ? { [on]: null } : Array.isArray(on) ? Object.fromEntries(on.map((e) => [e, null])) : ((on as Json) ?? {});
    if (!(t.name in triggers)) return false;
    const cfg = triggers[t.name] ?? {};
    if (t.name === 'pull_request') return (cfg.types ?? DEFAULT_PR_TYPES).includes(t.payload.action);
    if (t.name === 'workflow_run')
      return (cfg.workflows ?? []).includes(t.payload.workflow_run.name) && (cfg.types ?? ['completed', 'requested']).includes(t.payload.action);
    if (t.name === 'workflow_dispatch') return true;
    throw new Error(`${workflowName}: the emulation does not serve the event ${t.name}`);
  }

  /** Runs a workflow for an event, every job to its end. */
  async run(text: string, trigger: Trigger): Promise<WorkflowRun> {
    const started = Date.now();
    const wf = parse(text) as Json;
    const name = String(wf.name ?? '.github/workflows/workflow.yml');
    if (!this.triggered(wf.on, trigger, name)) throw new Error(`${name}: on: does not start it for ${trigger.name} (${trigger.payload.action ?? ''})`);
    const id = this.nextRunId++;
    const runDir = join(this.setup.work, `run-${id}`);
    const artifacts = join(runDir, 'artifacts');
    mkdirSync(artifacts, { recursive: true });
    const eventFile = join(runDir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(trigger.payload));
    const token = `ghs_${String(id).padEnd(36, '0')}`;
    const run: WorkflowRun = { id, name, trigger, conclusion: 'success', jobs: [], artifacts, token, seconds: 0 };
    this.runs.set(id, run);

    const inputs: Json = {};
    if (trigger.name === 'workflow_dispatch') {
      for (const [k, spec] of Object.entries((wf.on.workflow_dispatch?.inputs ?? {}) as Json)) inputs[k] = trigger.payload.inputs?.[k] ?? spec?.default ?? '';
    }
    const github: Json = {
      event: trigger.payload,
      event_name: trigger.name,
      token,
      sha: trigger.sha,
      ref: trigger.ref,
      repository: this.setup.repository,
      repository_owner: this.setup.repository.split('/')[0],
      run_id: String(id),
      run_number: '1',
      run_attempt: '1',
      workflow: name,
      actor: trigger.payload.sender?.login ?? 'nic-lab',
      server_url: 'https://github.com',
      api_url: this.setup.apiUrl,
    };
    const baseContexts: Record<string, Value> = { github, inputs, env: {} };
    if (wf.concurrency)
      interpolate(String(typeof wf.concurrency === 'object' ? wf.concurrency.group : wf.concurrency), { contexts: baseContexts, status: 'success' });

    const order = this.jobOrder(wf.jobs as Json, name);
    const results = new Map<string, JobRun[]>();
    for (const jobId of order) {
      const job = wf.jobs[jobId] as Json;
      const needs = labelList(job.needs ?? []);
      const needsCtx: Json = {};
      let needsOk = true;
      for (const n of needs) {
        const done = results.get(n) ?? [];
        const result = done.some((j) => j.result === 'failure') ? 'failure' : done.every((j) => j.result === 'skipped') ? 'skipped' : 'success';
        needsCtx[n] = { result, outputs: Object.assign({}, ...done.map((j) => j.outputs)) };
        if (result !== 'success') needsOk = false;
      }
      const runs: JobRun[] = [];
      for (const matrix of this.expandMatrix(job, name, jobId)) {
        const contexts: Record<string, Value> = { ...baseContexts, needs: needsCtx, matrix, strategy: {} };
        const ctx: ExpressionContext = { contexts, status: needsOk ? 'success' : 'failure' };
        const display = Object.keys(matrix).length ? `${jobId} (${Object.values(matrix).map(toText).join(', ')})` : jobId;
        if (!condition(job.if, ctx)) {
          runs.push({
            id: jobId,
            name: display,
            matrix,
            runsOn: [],
            runnerName: '',
            runnerEnvironment: 'self-hosted',
            result: 'skipped',
            steps: [],
            outputs: {},
            workspace: '',
            log: '',
          });
          continue;
        }
        runs.push(await this.runJob({ wf, job, jobId, display, matrix, contexts, run, runDir, eventFile }));
      }
      results.set(jobId, runs);
      run.jobs.push(...runs);
    }
    run.conclusion = run.jobs.some((j) => j.result === 'failure') ? 'failure' : 'success';
    run.seconds = (Date.now() - started) / 1000;
    return run;
  }

  private jobOrder(jobs: Json, name: string): string[] {
    const order: string[] = [];
    const visit = (id: string, path: string[]) => {
      if (order.includes(id)) return;
      if (path.includes(id)) throw new Error(`${name}: the jobs' needs form a cycle: ${[...path, id].join(' → ')}`);
      if (!jobs[id]) throw new Error(`${name}: needs names a job that is not there: ${id}`);
      for (const n of labelList(jobs[id].needs ?? [])) visit(n, [...path, id]);
      order.push(id);
    };
    for (const id of Object.keys(jobs)) visit(id, []);
    return order;
  }

  private expandMatrix(job: Json, name: string, jobId: string): Record<string, Value>[] {
    const matrix = job.strategy?.matrix as Json | undefined;
    if (!matrix) return [{}];
    let combos: Record<string, Value>[] = [{}];
    for (const [k, values] of Object.entries(matrix)) {
      if (k === 'include' || k === 'exclude' || !Array.isArray(values))
        throw new Error(`${name}: job ${jobId}: the emulation expands plain matrix lists only, not ${k}`);
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v as Value })));
    }
    return combos;
  }

  private async runJob(a: {
    wf: Json;
    job: Json;
    jobId: string;
    display: string;
    matrix: Record<string, Value>;
    contexts: Record<string, Value>;
    run: WorkflowRun;
    runDir: string;
    eventFile: string;
  }): Promise<JobRun> {
    const { wf, job, run } = a;
    const ctx0: ExpressionContext = { contexts: a.contexts, status: 'success' };
    const runsOn = labelList(job['runs-on']).map((l) => toText(interpolate(l, ctx0)));
    const hosted = runsOn.some((l) => /^ubuntu-/.test(l));
    // Each job (each matrix instance) has a folder and a workspace of its own.
    const n = ++this.jobCount;
    const runnerName = hosted ? `GitHub Actions ${n}` : runsOn[runsOn.length - 1];
    const jobDir = join(a.runDir, `job-${n}-${a.jobId}`);
    const workspace = join(jobDir, 'work', this.setup.repository.split('/')[1]);
    const temp = join(jobDir, 'temp');
    mkdirSync(workspace, { recursive: true });
    mkdirSync(temp, { recursive: true });
    const steps: StepRun[] = [];
    const stepsCtx: Json = {};
    const contexts: Record<string, Value> = {
      ...a.contexts,
      runner: {
        name: runnerName,
        os: 'Linux',
        arch: 'X64',
        environment: hosted ? 'github-hosted' : 'self-hosted',
        temp,
        tool_cache: join(this.setup.work, 'tool-cache'),
      },
      steps: stepsCtx,
    };
    const jr: JobRun = {
      id: a.jobId,
      name: a.display,
      matrix: a.matrix,
      runsOn,
      runnerName,
      runnerEnvironment: hosted ? 'github-hosted' : 'self-hosted',
      result: 'success',
      steps,
      outputs: {},
      workspace,
      log: '',
    };
    const ctx: ExpressionContext = { contexts, status: 'success' };
    const evalEnv = (env: Json | undefined): Record<string, string> =>
      Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, toText(interpolate(String(v), ctx))]));
    const jobEnv = { ...evalEnv(wf.env), ...evalEnv(job.env) };
    const timeoutMs = Math.min(Number(job['timeout-minutes'] ?? 360), 40) * 60_000;
    const posts: (() => Promise<string>)[] = [];
    const runnerEnv = (stepDir: string): Record<string, string> => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      LANG: 'C.UTF-8',
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: run.trigger.name,
      GITHUB_EVENT_PATH: a.eventFile,
      GITHUB_REPOSITORY: this.setup.repository,
      GITHUB_REPOSITORY_OWNER: this.setup.repository.split('/')[0],
      GITHUB_WORKSPACE: workspace,
      GITHUB_SHA: run.trigger.sha,
      GITHUB_REF: run.trigger.ref,
      GITHUB_RUN_ID: String(run.id),
      GITHUB_RUN_NUMBER: '1',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKFLOW: run.name,
      GITHUB_JOB: a.jobId,
      GITHUB_ACTOR: String((a.contexts.github as Json).actor),
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: this.setup.apiUrl,
      GITHUB_OUTPUT: join(stepDir, 'output'),
      GITHUB_STEP_SUMMARY: join(stepDir, 'summary.md'),
      GITHUB_ENV: join(stepDir, 'env'),
      GITHUB_PATH: join(stepDir, 'path'),
      GITHUB_STATE: join(stepDir, 'state'),
      RUNNER_NAME: runnerName,
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      RUNNER_ENVIRONMENT: hosted ? 'github-hosted' : 'self-hosted',
      RUNNER_TEMP: temp,
      RUNNER_TOOL_CACHE: join(this.setup.work, 'tool-cache'),
      GIT_CONFIG_GLOBAL: this.gitConfig,
      ...this.setup.env,
      ...jobEnv,
    });

    for (const [i, step] of (job.steps as Json[]).entries()) {
      const label = String(step.name ?? step.uses ?? `run ${i + 1}`);
      const stepDir = join(jobDir, `step-${i + 1}`);
      mkdirSync(stepDir, { recursive: true });
      for (const f of ['output', 'summary.md', 'env', 'path', 'state']) writeFileSync(join(stepDir, f), '');
      ctx.status = jr.result === 'failure' ? 'failure' : 'success';
      const record = (s: Omit<StepRun, 'label'>) => {
        steps.push({ label, ...s });
        if (step.id) stepsCtx[step.id] = { outputs: s.outputs, outcome: s.outcome, conclusion: s.outcome };
        jr.log += `\n## ${label}: ${s.outcome}\n${s.log}`;
        if (s.outcome === 'failure' && !step['continue-on-error']) jr.result = 'failure';
      };
      if (!condition(step.if, ctx)) {
        record({ outcome: 'skipped', outputs: {}, log: '', summary: '' });
        continue;
      }
      const withs: Record<string, string> = Object.fromEntries(
        Object.entries((step.with ?? {}) as Json).map(([k, v]) => [k, toText(interpolate(String(v), ctx))]),
      );
      const env = { ...runnerEnv(stepDir), ...evalEnv(step.env) };
      const uses = step.uses === undefined ? undefined : String(step.uses);
      try {
        if (uses === undefined) {
          if (step.run === undefined) throw new Error(`step ${label}: neither uses nor run`);
          if (step.shell && step.shell !== 'bash') throw new Error(`step ${label}: the emulation runs bash steps only, not ${step.shell}`);
          const script = join(stepDir, 'script.sh');
          writeFileSync(script, toText(interpolate(String(step.run), ctx)));
          const r = await spawnLogged(['bash', '--noprofile', '--norc', '-eo', 'pipefail', script], {
            cwd: step['working-directory'] ? join(workspace, String(step['working-directory'])) : workspace,
            env,
            timeoutMs,
          });
          record({
            outcome: r.code === 0 ? 'success' : 'failure',
            outputs: parseOutputs(env.GITHUB_OUTPUT),
            log: r.log,
            summary: readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8'),
          });
        } else if (/^actions\/checkout@v\d+$/.test(uses)) {
          const log = checkout({
            workspace,
            repository: this.setup.repository,
            sha: run.trigger.sha,
            ref: run.trigger.ref,
            token: run.token,
            with: withs,
            env,
          });
          record({ outcome: 'success', outputs: {}, log, summary: '' });
        } else if (uses === 'actions/upload-artifact@v4') {
          record({ outcome: 'success', outputs: {}, log: await uploadArtifact(workspace, run.artifacts, withs), summary: '' });
        } else if (uses === 'actions/download-artifact@v4') {
          const log = downloadArtifact(
            workspace,
            {
              current: run.artifacts,
              ofRun: (id) => {
                const other = this.runs.get(Number(id));
                if (!other) throw new Error(`actions/download-artifact: no run ${id}`);
                return other.artifacts;
              },
            },
            withs,
          );
          record({ outcome: 'success', outputs: {}, log, summary: '' });
        } else if (uses === './' || /^[^/\s]+\/alloc-balance@\S+/.test(uses)) {
          const r = await this.actionStep(withs, env, { stepDir, workspace, timeoutMs, token: run.token });
          record({
            outcome: r.code === 0 ? 'success' : 'failure',
            outputs: parseOutputs(env.GITHUB_OUTPUT),
            log: r.log,
            summary: readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8'),
            vmSeconds: r.vmSeconds,
          });
          if (r.post) posts.unshift(r.post);
        } else {
          throw new Error(`step ${label}: the emulation does not know the action ${uses}`);
        }
      } catch (e) {
        // A gap of the emulation is the test's failure, not the job's.
        if (/the emulation|cannot evaluate/.test((e as Error).message)) throw e;
        record({ outcome: 'failure', outputs: {}, log: String((e as Error).message), summary: '' });
      }
    }
    // Post steps, last action first; action.yml has no post-if: always().
    for (const post of posts) {
      try {
        jr.log += `\n## post step\n${await post()}`;
      } catch (e) {
        jr.log += `\n## post step: failure\n${(e as Error).message}`;
        jr.result = 'failure';
      }
    }
    for (const [k, v] of Object.entries((job.outputs ?? {}) as Json)) jr.outputs[k] = toText(interpolate(String(v), ctx));
    return jr;
  }

  /** This repository's action: main step now, the post step returned for the job's end. */
  private async actionStep(
    withs: Record<string, string>,
    env: Record<string, string>,
    where: { stepDir: string; workspace: string; timeoutMs: number; token: string },
  ): Promise<{ code: number | null; log: string; post?: () => Promise<string>; vmSeconds?: number }> {
    const { stepDir, workspace, timeoutMs } = where;
    const unknown = Object.keys(withs).filter((k) => !ACTION_INPUTS.has(k));
    if (unknown.length) throw new Error(`alloc-balance: the workflow gives inputs action.yml does not have: ${unknown.join(', ')}`);
    const ctx: ExpressionContext = { contexts: { github: { token: where.token } }, status: 'success' };
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(actionDefaults())) inputs[k] = toText(interpolate(v, ctx));
    Object.assign(inputs, withs);
    const stepEnv = { ...env };
    // The runner's variable names: INPUT_ and the name upper-cased, spaces to underscores.
    for (const [k, v] of Object.entries(inputs)) stepEnv[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
    writeFileSync(join(stepDir, 'inputs.json'), JSON.stringify(inputs, null, 1));
    const bundle = actionBundle();
    if (inputs.target === 'host' && inputs.mode !== 'report') {
      if (!this.setup.kernel) throw new Error('alloc-balance with target: host: the emulation needs the lab kernel to stand for the runner');
      const r = await runActionInGuest({
        kernel: this.setup.kernel,
        node: NODE24,
        bundle,
        shared: this.setup.work,
        dir: stepDir,
        workspace,
        shares: [this.setup.fixtureRepo],
        env: stepEnv,
        stateFile: stepEnv.GITHUB_STATE,
        apiUrl: this.setup.apiUrl,
        timeoutSeconds: Math.round(timeoutMs / 1000),
      });
      if (r.mainCode === null) throw new Error(`alloc-balance in the lab VM did not finish: ${JSON.stringify(r.vm)}\n${r.log}`);
      const post = async () => {
        if (r.postCode !== 0) throw new Error(`alloc-balance's post step failed in the lab VM:\n${r.postLog}`);
        return r.postLog;
      };
      return { code: r.mainCode, log: r.log, post, vmSeconds: r.vm.seconds };
    }
    const main = await spawnLogged([NODE24, bundle.index], { cwd: workspace, env: stepEnv, timeoutMs });
    const post = async () => {
      const postEnv = { ...stepEnv };
      for (const [k, v] of Object.entries(parseOutputs(stepEnv.GITHUB_STATE))) postEnv[`STATE_${k}`] = v;
      const r = await spawnLogged([NODE24, bundle.post], { cwd: workspace, env: postEnv, timeoutMs });
      writeFileSync(join(stepDir, 'post.log'), r.log);
      if (r.code !== 0) throw new Error(`alloc-balance's post step failed (${r.code}):\n${r.log}`);
      return r.log;
    };
    return { code: main.code, log: main.log, post };
  }

  /** The `workflow_run` event GitHub sends when `run` completed: its shape as in test/data/events. */
  workflowRunTrigger(run: WorkflowRun, defaultBranch = 'main'): Trigger {
    const pr = run.trigger.payload.pull_request as Json | undefined;
    const fork = !!pr && pr.head.repo.full_name !== this.setup.repository;
    const template = JSON.parse(readFileSync(join(ROOT, 'test/data/events/workflow_run.json'), 'utf8')) as Json;
    const headSha = pr ? pr.head.sha : run.trigger.sha;
    const headRepo = pr ? pr.head.repo : template.workflow_run.repository;
    template.action = 'completed';
    template.workflow_run = {
      ...template.workflow_run,
      id: run.id,
      name: run.name,
      head_sha: headSha,
      head_branch: pr ? pr.head.ref : run.trigger.ref.replace(/^refs\/heads\//, ''),
      event: run.trigger.name,
      status: 'completed',
      conclusion: run.conclusion,
      html_url: `https://github.com/${this.setup.repository}/actions/runs/${run.id}`,
      url: `https://api.github.com/repos/${this.setup.repository}/actions/runs/${run.id}`,
      artifacts_url: `https://api.github.com/repos/${this.setup.repository}/actions/runs/${run.id}/artifacts`,
      head_commit: { ...template.workflow_run.head_commit, id: headSha },
      head_repository: { ...template.workflow_run.head_repository, ...headRepo, full_name: pr ? pr.head.repo.full_name : this.setup.repository },
      // GitHub leaves pull_requests empty for a PR from a fork.
      pull_requests:
        pr && !fork
          ? [
              {
                url: pr.url,
                id: pr.id,
                number: pr.number,
                head: { ref: pr.head.ref, sha: pr.head.sha, repo: { id: pr.head.repo.id, url: pr.head.repo.url, name: pr.head.repo.name } },
                base: { ref: pr.base.ref, sha: pr.base.sha, repo: { id: pr.base.repo.id, url: pr.base.repo.url, name: pr.base.repo.name } },
              },
            ]
          : [],
    };
    return { name: 'workflow_run', payload: template, sha: this.setup.defaultBranchSha, ref: `refs/heads/${defaultBranch}` };
  }
}
