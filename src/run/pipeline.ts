// The whole job, per mode. full: sources -> both sides on the target -> verdict -> report and
// GitHub outputs; collect: the same without GitHub writes; report: merge JSON reports and post.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, freemem, hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Comparison, RunReport, SideRun, Verdict } from '../core/model.js';
import { prLeakedPerCycle } from '../core/compare.js';
import { compare } from '../verdict/traces.js';
import { pairName } from '../core/pair-spec.js';
import { DEFAULT_SERVER_URL, runUrl } from '../report/source-links.js';
import { readEventContext, resolveChange, type ChangeUnderTest } from '../github/event.js';
import { createClient, parseRepo, type GitHubClient, type RepoRef, type RetryPolicy } from '../github/client.js';
import { assertSafeToRun } from '../github/safety.js';
import { publishResults } from '../github/publish.js';
import { writeJobSummary } from '../github/summary.js';
import { readReports, NoReportError } from '../github/reports.js';
import { mergeReports } from '../verdict/runners.js';
import { noReportText } from '../report/no-report.js';
import { resolveReportTarget } from '../github/report-target.js';
import { prepareWorktrees } from '../sources/worktrees.js';
import type { Settings } from '../settings/settings.js';
import { runSide, type SideContext, type SideSource } from './side.js';
import { sidePlan, tracingPlan } from './side-plan.js';
import { UserspaceCaching } from '../presets/userspace-caching.js';
import { sideConcurrency } from './side-concurrency.js';
import { BaseCaching, actionFingerprint, foldersDigest } from './base-caching.js';
import { baseCacheKey } from './base-cache-key.js';
import pkg from '../../package.json' with { type: 'json' };
import { StateRecorder } from './action-state.js';
import type { DirCache } from '../github/dir-cache.js';
import type { LabKernel } from '../lab/lab-kernel.js';
import type { QemuVersion } from '../lab/lab-qemu.js';
import { NIC_MODELS } from '../lab/vm-nics.js';
import { createTargetRunner, type RunnerOptions, type TargetRunner } from './launcher.js';
import { applyCanary, applyChangedCode, decideVerdict } from '../verdict/decide.js';
import { annotationsFor } from '../report/annotations.js';
import { renderComment, renderRunnersComment, type CommentOptions } from '../report/comment.js';
import { expandPreset, type PresetExpansion } from '../presets/side-preparation.js';
import { runCanary } from './canary.js';
import { findSandboxLauncher } from '../sandbox/build-sandbox.js';
import { HelperBuilds, withHelperBuilds } from './helper-modules.js';

export interface PipelineIo extends RunnerOptions {
  log: (line: string) => void;
  warn: (line: string) => void;
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  /** The repository checkout (GITHUB_WORKSPACE). */
  workspace: string;
  /** Remembers what the post step must undo if this process dies. */
  saveState: (key: string, value: string) => void;
  env: NodeJS.ProcessEnv;
  /** target: vm: the lab kernel of `release` (empty: any), set up when missing. */
  /** `qemu`: the oldest QEMU the VM needs (an emulated NIC's); the lab takes a newer one when the runner's is older. */
  prepareLab?: (release: string, qemu?: QemuVersion) => Promise<LabKernel>;
  /** The Actions cache, for a preset's user-space build (absent or unavailable: local cache only). */
  cache?: DirCache;
  /** The inputs the workflow set that `alloc-balance run` takes too (inputs/local-run.ts): the report's reproduce command. */
  runInputs?: Record<string, string>;
  /** The GitHub client's retries and request spacing (absent: the client's defaults; tests shorten them). */
  githubRetry?: RetryPolicy;
}

interface PipelineResult {
  verdict: Verdict;
  headline: string;
  reportPath?: string;
  leakedPerCycle?: number;
  commentUrl: string | null;
  markdown: string;
  report?: RunReport;
}

function runnerName(env: NodeJS.ProcessEnv): string {
  return env.RUNNER_NAME || hostname();
}

function runId(): string {
  return `${process.pid.toString(36)}${Date.now().toString(36)}`.slice(-12);
}

/** What measure() needs of the job's I/O. */
type MeasureIo = Pick<PipelineIo, 'log' | 'group' | 'cache' | 'signal' | 'onTempDir'> & {
  onUndoFile?: (file: string) => void;
  /** The helper modules of the run measure() is part of (absent: its own, removed when it returns or throws). */
  helpers?: HelperBuilds;
  baseCache?: BaseCaching;
  /** This runner's cores and free memory (default: this machine's), for running the sides at once. */
  machine?: { cores: number; freeMemoryMb: number };
};

function thisMachine(): { cores: number; freeMemoryMb: number } {
  return { cores: availableParallelism(), freeMemoryMb: Math.floor(freemem() / 2 ** 20) };
}

/** Runs base and PR with the same runner and settings (the only difference is the tree): one after the other, or at once where the runner holds two VMs. */
export function measure(
  settings: Settings,
  sources: { base: SideSource; pr: SideSource },
  runner: TargetRunner,
  io: MeasureIo,
  outDir: string,
  preset: PresetExpansion | null = null,
): Promise<{ base: SideRun; pr: SideRun; comparison: Comparison }> {
  // The sides share the helper modules' builds; their folders go when the run ends.
  return withHelperBuilds(io.helpers ?? { onTempDir: io.onTempDir }, (helpers) => measureWith(settings, sources, runner, { ...io, helpers }, outDir, preset));
}

async function measureWith(
  settings: Settings,
  sources: { base: SideSource; pr: SideSource },
  runner: TargetRunner,
  io: MeasureIo & { helpers: HelperBuilds },
  outDir: string,
  preset: PresetExpansion | null,
): Promise<{ base: SideRun; pr: SideRun; comparison: Comparison }> {
  const id = runId();
  const userspace = new UserspaceCaching(io.cache, io.log);
  const cachedBase = io.baseCache ? await io.baseCache.restore(sources.base) : null;
  const toRun = cachedBase ? [sources.pr] : [sources.base, sources.pr];
  const concurrency = sideConcurrency({
    target: settings.target,
    sidesToRun: toRun.length,
    preset: preset !== null,
    ...(io.machine ?? thisMachine()),
    vm: settings.vm,
  });
  io.log(concurrency.why);

  // The PR side compares its build with the base's to find the functions the PR changed; the sides
  // may run at once, so the base's .ko comes as a promise (undefined when the base built none).
  let baseBuilt: (ko: string | undefined) => void = () => {};
  const baseModule = new Promise<string | undefined>((resolveKo) => {
    baseBuilt = resolveKo;
  });

  const runOne = async (source: SideSource, grouped: boolean): Promise<SideRun> => {
    if (io.signal?.aborted) {
      return {
        side: source.side,
        ref: source.ref,
        sha: source.sha,
        status: 'cancelled',
        reason: 'the run was cancelled before this side started',
        timings: {},
      };
    }
    const prepared = preset?.prepare(source.dir, source.side, join(outDir, 'work'));
    for (const note of prepared?.notes ?? []) io.log(`${source.side}: ${note}`);
    if (prepared) {
      await userspace.restore(prepared.userspace);
      prepared.checkPrerequisites();
    }
    const ctx: SideContext = {
      plan: sidePlan(settings, prepared),
      runner,
      outDir: join(outDir, source.side),
      runId: `ab${id}${source.side === 'base' ? 'b' : 'p'}`,
      log: io.log,
      onUndoFile: io.onUndoFile,
      onTempDir: io.onTempDir,
      helpers: io.helpers,
      ...(source.side === 'base' ? { onBuilt: (ko: string) => baseBuilt(ko) } : cachedBase ? {} : { changedFrom: baseModule }),
    };
    const title = `${source.side === 'base' ? 'Base' : 'PR'} (${source.sha.slice(0, 12) || source.ref})`;
    const s = await (grouped ? io.group(title, () => runSide(source, ctx)) : runSide(source, ctx)).finally(() => {
      if (source.side === 'base') baseBuilt(undefined);
    });
    if (prepared?.reportNotes.length) s.notes = [...prepared.reportNotes, ...(s.notes ?? [])];
    if (prepared) await userspace.saveBuilt(prepared.userspace);
    io.log(`${source.side}: ${s.status}${s.reason ? ` - ${s.reason}` : ''}`);
    // Saved before the PR side starts when the sides take turns; at once, the PR's code is in its own VM.
    if (source.side === 'base' && io.baseCache && !io.signal?.aborted) await io.baseCache.save(s);
    return s;
  };

  const sides: Partial<Record<'base' | 'pr', SideRun>> = cachedBase ? { base: cachedBase } : {};
  if (concurrency.atOnce) {
    // One log group for both: the lines of each side carry its name.
    const both = await io.group(`Base and PR at once (${toRun.map((s) => s.sha.slice(0, 12) || s.ref).join(', ')})`, () =>
      Promise.all(toRun.map((source) => runOne(source, false))),
    );
    for (const s of both) sides[s.side] = s;
  } else {
    for (const source of toRun) sides[source.side] = await runOne(source, true);
  }
  const base = sides.base as SideRun;
  const pr = sides.pr as SideRun;
  const comparison = applyChangedCode(decideVerdict(base, pr, settings.failOn, compare), pr.changed, settings.requireChangedCode);
  return { base, pr, comparison };
}

/** The base's entry in the Actions cache: keyed by the base, the kernel, the measurement's settings and this action. */
function baseCaching(settings: Settings, io: Omit<PipelineIo, 'warn'>, runner: TargetRunner, baseSha: string): BaseCaching | undefined {
  if (!io.cache) return undefined;
  if (settings.requireChangedCode) {
    // The changed functions are found by comparing the PR's build with the base's, which a cached base does not have.
    io.log('base cache: not used with require-changed-code (the base must be built to find the changed functions)');
    return undefined;
  }
  if (!io.cache.available) {
    // Said here, before the vm-folders are read for a key nothing would use.
    io.log('base cache: the Actions cache is not available here; the base side runs');
    return undefined;
  }
  const folders = settings.target === 'vm' ? settings.vm.folders.map((f) => resolve(io.workspace, f)) : [];
  const key = baseCacheKey(settings, {
    baseSha,
    kernel: runner.kernel.release,
    actionVersion: actionFingerprint(pkg.version, io.cliPath),
    foldersDigest: foldersDigest(folders),
    machine: settings.target === 'host' ? runnerName(io.env) : '',
  });
  // The same path on every runner: the Actions cache's version covers the paths an entry was saved from.
  const dir = join(tmpdir(), 'alloc-balance-base-cache', key);
  return new BaseCaching(io.cache, key, dir, { runId: io.env.GITHUB_RUN_ID ?? '', runUrl: runUrl(io.env) }, io.log);
}

export function buildReport(
  settings: Settings,
  runner: TargetRunner,
  env: NodeJS.ProcessEnv,
  measured: { base: SideRun; pr: SideRun; comparison: Comparison },
  change?: ChangeUnderTest,
  runInputs?: Record<string, string>,
): RunReport {
  const report: RunReport = {
    schema: 'alloc-balance/report@1',
    runner: { name: runnerName(env), kernel: runner.kernel.release, target: settings.target },
    module: settings.moduleName || settings.moduleDir,
    pairs: trackedPairs(settings, measured),
    base: measured.base,
    pr: measured.pr,
    comparison: measured.comparison,
  };
  if (change) {
    report.change = {
      event: change.event,
      prNumber: change.prNumber,
      baseSha: measured.base.sha,
      headSha: measured.pr.sha,
      headRepo: change.headRepo,
      isFork: change.isFork,
    };
    if (runInputs) report.localRun = { repository: change.repository, tool: actionSource(env), inputs: runInputs };
  }
  return report;
}

/** `owner/name@ref` of this action as the workflow named it; '' for `uses: ./` (a checkout) and outside Actions. */
function actionSource(env: NodeJS.ProcessEnv): string {
  const repo = env.GITHUB_ACTION_REPOSITORY ?? '';
  return repo ? `${repo}${env.GITHUB_ACTION_REF ? `@${env.GITHUB_ACTION_REF}` : ''}` : '';
}

/** The pairs the report covers: those asked for, or with track: auto those either side traced. */
function trackedPairs(settings: Settings, measured: { base: SideRun; pr: SideRun }): string[] {
  if (settings.track !== 'auto') return settings.track.map(pairName);
  // The traced pairs: the rows the apiwatch helper counted are not tracked pairs.
  const names = [measured.base, measured.pr].flatMap((s) => s.analysis?.pairs.filter((p) => !p.viaApi && !p.untracked).map(pairName) ?? []);
  return [...new Set(names)];
}

function commentOptions(settings: Settings, env: NodeJS.ProcessEnv, change?: ChangeUnderTest): CommentOptions {
  const options: CommentOptions = { checkName: settings.checkName, serverUrl: env.GITHUB_SERVER_URL, runUrl: runUrl(env) };
  // Reports a workflow_run report job posts were uploaded by the collect run: its artifacts hold the traces.
  const collect = change?.workflowRun;
  if (collect) options.artifactsUrl = `${env.GITHUB_SERVER_URL || DEFAULT_SERVER_URL}/${change.repository}/actions/runs/${collect.id}#artifacts`;
  return options;
}

function writeReport(outDir: string, report: RunReport): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'report.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

function client(settings: Settings, io: PipelineIo): GitHubClient | null {
  if (!settings.githubToken) return null;
  return createClient({ token: settings.githubToken, baseUrl: io.env.GITHUB_API_URL, log: io.log, retry: io.githubRetry });
}

/**
 * The check itself, on any machine: base and head of `change` in worktrees of `io.workspace`, the
 * canary when asked, both sides on the target, the verdict, the report written to outDir. The
 * action runs it after resolving the event; `alloc-balance run` with refs given on its command line.
 */
export async function checkChange(
  settings: Settings,
  io: Omit<PipelineIo, 'warn'>,
  change: ChangeUnderTest,
  outDir: string,
): Promise<{ report: RunReport; reportPath: string }> {
  const state = new StateRecorder(io.saveState);
  // Only this machine's kernel outlives a killed run; a VM's kernel state ends with the VM.
  const onTempDir = (dir: string) => state.tempDir(dir);
  const measureIo = { ...io, onTempDir, onUndoFile: settings.target === 'host' ? (file: string) => state.undoFile(file) : undefined };
  const lab =
    settings.target === 'vm' && io.prepareLab
      ? await io.prepareLab(settings.vm.kernel, settings.vm.nics ? NIC_MODELS[settings.vm.nics.model].minQemu : undefined)
      : undefined;
  const runner = createTargetRunner(settings, { ...io, onTempDir }, lab);
  const workDir = mkdtempSync(join(tmpdir(), 'alloc-balance-src-'));
  state.tempDir(workDir);
  let trees;
  try {
    trees = await io.group('Sources', () => prepareWorktrees(io.workspace, change, workDir, { log: io.log }));
  } catch (e) {
    rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
  state.worktrees({ repo: io.workspace, dirs: [trees.base, trees.head], root: workDir });
  const baseCache = settings.baseCache && io.cache ? baseCaching(settings, io, runner, trees.baseSha) : undefined;
  let measured;
  let canary;
  // The canary and both sides share the helper modules' builds, removed with the sources' folder.
  const helpers = new HelperBuilds({ onTempDir });
  try {
    const preset = expandPreset(settings, runner.kernel.buildDir);
    if (settings.canary) {
      canary = await io.group('Canary', () => runCanary(tracingPlan(settings), runner, { ...measureIo, helpers }, join(outDir, 'canary')));
    }
    measured = await measure(
      settings,
      {
        base: { side: 'base', ref: change.base.ref, sha: trees.baseSha, dir: trees.base },
        pr: { side: 'pr', ref: change.head.ref, sha: trees.headSha, dir: trees.head },
      },
      runner,
      { ...measureIo, baseCache, helpers },
      outDir,
      preset,
    );
  } finally {
    await helpers.dispose();
    await trees.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }
  if (canary) measured.comparison = applyCanary(measured.comparison, canary, measured.pr);
  const report = buildReport(settings, runner, io.env, measured, change, io.runInputs);
  if (canary) report.canary = canary;
  return { report, reportPath: writeReport(outDir, report) };
}

async function runFullOrCollect(settings: Settings, io: PipelineIo): Promise<PipelineResult> {
  const gh = client(settings, io);
  const ctx = readEventContext(io.env);
  const change = await resolveChange(ctx, settings, gh);
  const repo = parseRepo(change.repository);
  const safety = await assertSafeToRun(gh, repo, {
    mode: settings.mode as 'full' | 'collect',
    runnerEnvironment: io.env.RUNNER_ENVIRONMENT ?? '',
    allowForkCode: settings.allowForkCode,
    approvalLabel: settings.approvalLabel,
    change,
  });
  for (const w of safety.warnings) io.warn(w);
  // The PR's code is built only in the sandbox: without one, stop before anything is checked out.
  findSandboxLauncher();

  const { report, reportPath } = await checkChange(settings, io, change, resolve(io.workspace, settings.outputDir));
  const markdown = renderComment(report, commentOptions(settings, io.env));
  const leakedPerCycle = prLeakedPerCycle(report.comparison);
  let commentUrl: string | null = null;
  if (settings.mode === 'full') {
    const outcome = await publishResults(
      gh,
      {
        repo,
        checkName: settings.checkName,
        prNumber: change.prNumber,
        headSha: report.pr.sha,
        verdict: report.comparison.verdict,
        inconclusive: settings.inconclusive,
        headline: report.comparison.headline,
        markdown,
        comment: settings.comment,
        annotations: annotationsFor(report),
      },
      { info: io.log, warning: io.warn },
    );
    commentUrl = outcome.commentUrl;
  } else {
    await writeJobSummary(markdown);
  }
  return { verdict: report.comparison.verdict, headline: report.comparison.headline, reportPath, leakedPerCycle, commentUrl, markdown, report };
}

/** Events whose check run a required check waits for: a report job that finds no report still completes it. */
const REQUIRED_CHECK_EVENTS = new Set(['workflow_run', 'pull_request', 'pull_request_target', 'merge_group']);

async function runReport(settings: Settings, io: PipelineIo): Promise<PipelineResult> {
  const gh = client(settings, io);
  const change = await resolveChange(readEventContext(io.env), settings, gh);
  const repo = parseRepo(change.repository);
  // On the commit the collect run tested: a queued or in-progress check run of the same name there is completed, not doubled.
  const headSha = change.workflowRun?.headSha ?? change.head.sha;
  const completeOpenCheckRun = { ownRunId: io.env.GITHUB_RUN_ID };
  let loaded;
  try {
    loaded = await readReports(settings.reports, io.workspace, io.log);
  } catch (error) {
    if (error instanceof NoReportError && REQUIRED_CHECK_EVENTS.has(change.event) && headSha !== '') {
      await publishNoReport(gh, settings, io, { repo, headSha, change, reason: error.message, completeOpenCheckRun });
    }
    throw error;
  }
  const merged = mergeReports(loaded);
  const target = await resolveReportTarget(gh, repo, change, merged.reports);
  for (const w of target.warnings) io.warn(w);
  const markdown = renderRunnersComment(merged, commentOptions(settings, io.env, change));
  const outcome = await publishResults(
    gh,
    {
      repo,
      checkName: settings.checkName,
      prNumber: target.prNumber,
      headSha: target.headSha,
      verdict: merged.verdict,
      inconclusive: settings.inconclusive,
      headline: merged.headline,
      markdown,
      comment: settings.comment,
      annotations: merged.reports.flatMap((r) => annotationsFor(r)),
      completeOpenCheckRun,
    },
    { info: io.log, warning: io.warn },
  );
  return { verdict: merged.verdict, headline: merged.headline, leakedPerCycle: prLeakedPerCycle(merged.comparison), commentUrl: outcome.commentUrl, markdown };
}

/** The collect run left no report: the check run fails on the tested commit (the step then fails too). */
async function publishNoReport(
  gh: GitHubClient | null,
  settings: Settings,
  io: PipelineIo,
  what: { repo: RepoRef; headSha: string; change: ChangeUnderTest; reason: string; completeOpenCheckRun: { ownRunId?: string } },
): Promise<void> {
  const run = what.change.workflowRun;
  const serverUrl = io.env.GITHUB_SERVER_URL || DEFAULT_SERVER_URL;
  const { headline, markdown } = noReportText({
    checkName: settings.checkName,
    reason: what.reason,
    collectRun: run ? { url: `${serverUrl}/${what.change.repository}/actions/runs/${run.id}`, conclusion: run.conclusion } : undefined,
  });
  await publishResults(
    gh,
    {
      repo: what.repo,
      checkName: settings.checkName,
      prNumber: null,
      headSha: what.headSha,
      // No verdict on the PR, but the conclusion a missing report needs: failure.
      verdict: 'fail',
      headline,
      markdown,
      annotations: [],
      completeOpenCheckRun: what.completeOpenCheckRun,
    },
    { info: io.log, warning: io.warn },
  );
}

export function runPipeline(settings: Settings, io: PipelineIo): Promise<PipelineResult> {
  return settings.mode === 'report' ? runReport(settings, io) : runFullOrCollect(settings, io);
}
