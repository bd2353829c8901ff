// One side of a run (base or PR): build the module from its source tree, run the kernel-side
// job on the target (this machine, or a VM booted for it), then analyze what it traced.
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { SideRun } from '../core/model.js';
import { analyzeTraces } from '../core/analyze-traces.js';
import { ModuleMap } from '../core/module-map.js';
import { buildModule, type BuiltModule } from '../module-build/build-module.js';
import { locateCallers, moduleImports, moduleSymbols, readVermagic, vermagicMismatch } from '../module-build/module-info.js';
import { autoTrack, untrackedAllocators } from '../core/allocator-families.js';
import type { PairSpec } from '../core/model.js';
import type { TargetJob } from '../kernel-side/job.js';
import type { NicBindingJob } from '../kernel-side/nic-binding.js';
import type { TargetStatus } from '../kernel-side/status.js';
import type { SidePlan } from './side-plan.js';
import type { TargetKernel, TargetOutcome, TargetRunner } from './launcher.js';
import { FAILSITE, readErrorPaths, type SweepEnd, sweepJob } from './error-paths.js';
import { type HelperBuilds, withHelperBuilds } from './helper-modules.js';
import { API_WATCH, addUntracedMemory, leftOutNote } from './api-memory.js';
import { vmallocWitnessed } from '../core/vmalloc-areas.js';
import { changedCalls, findChangedFunctions } from './changed-code.js';
import { aliasNames, entrySymbols } from '../core/changed-code.js';
import { cycleLeftovers } from '../core/error-paths.js';
import { parseNm } from '../core/module-map.js';
import { describeSandbox, findSandboxLauncher, type SandboxLauncher, sandboxWrapper } from '../sandbox/build-sandbox.js';
import { stopwatch } from '../elapsed.js';
import { moduleName } from '../core/module-name.js';

export interface SideSource {
  side: 'base' | 'pr';
  ref: string;
  sha: string;
  /** Root of the checked-out tree (a worktree). */
  dir: string;
}

export interface SideContext {
  plan: SidePlan;
  runner: TargetRunner;
  /** Where this side's job, trace and logs go. */
  outDir: string;
  runId: string;
  log: (line: string) => void;
  /** Told the kernel-side undo file before the job starts, when the job runs on this machine's kernel. */
  onUndoFile?: (file: string) => void;
  /** PR side: the base build's .ko, to find the functions the PR changed and count their calls. */
  changedFrom?: string | Promise<string | undefined>;
  /** Told the built .ko (the base's is the PR side's changedFrom). */
  onBuilt?: (ko: string) => void;
  /** Told each temporary folder as it is made (the helper modules' builds). */
  onTempDir?: (dir: string) => void;
  /** The helper modules of the run this side is part of (absent: the side builds its own, removed when it ends). */
  helpers?: HelperBuilds;
  /** How the build's sandbox starts here (default: probed once). */
  sandbox?: SandboxLauncher;
}

function chooseModule(modules: BuiltModule[], wanted?: string): BuiltModule | string {
  if (modules.length === 0) return 'the build succeeded but produced no .ko file';
  if (wanted) {
    const m = modules.find((x) => x.name === moduleName(wanted));
    return m ?? `the build produced ${modules.map((x) => x.name).join(', ')} but not ${wanted}`;
  }
  if (modules.length > 1) return `the build produced several modules (${modules.map((x) => x.name).join(', ')}): name the one to load in the module input`;
  return modules[0];
}

/** A kernel module the target kernel ships: its file in a lab kernel's modules, else its name (modprobe). */
function kernelModule(kernel: TargetKernel | undefined, relPath: string): string {
  if (!kernel?.modulesDir) return basename(relPath);
  const base = join(kernel.modulesDir, 'kernel', `${relPath}.ko`);
  return ['', '.xz', '.zst', '.gz'].map((c) => base + c).find((p) => existsSync(p)) ?? base;
}

function nicBinding(nics: NonNullable<SidePlan['nics']>, kernel: TargetKernel | undefined): NicBindingJob {
  const load = [kernelModule(kernel, 'drivers/uio/uio')];
  load.push(nics.driverModule ?? kernelModule(kernel, `drivers/uio/${nics.driver}`));
  return { addresses: nics.addresses, driver: nics.driver, load };
}

export function targetJob(
  ctx: Pick<SideContext, 'plan' | 'outDir' | 'runId'>,
  module: BuiltModule,
  moduleDir: string,
  track: PairSpec[],
  kernel?: TargetKernel,
): TargetJob {
  const { plan } = ctx;
  return {
    module: { path: module.path, name: module.name, args: plan.build.moduleArgs },
    workload: { ...plan.workload, cwd: moduleDir },
    cycles: plan.cycles,
    track,
    traceBufferKb: plan.traceBufferKb,
    stacks: plan.stacks,
    outDir: ctx.outDir,
    runId: ctx.runId,
    hugepages: plan.hugepages,
    ...(plan.nics ? { nics: nicBinding(plan.nics, kernel) } : {}),
    timeoutSeconds: plan.timeoutSeconds,
    ...(plan.background ? { background: plan.background } : {}),
  };
}

/** How the VM ended, when it ended in the error-path sweep: a crash, or a hang (the VM killed at its deadline). */
function sweepEndOf(failure: NonNullable<TargetOutcome['failure']>): SweepEnd | undefined {
  if (failure.status === 'kernel-splat') return { kind: 'crash', excerpt: failure.excerpt ?? failure.reason };
  if (failure.status === 'timeout') return { kind: 'hang' };
  return undefined;
}

function readStatus(outDir: string): TargetStatus | null {
  const file = join(outDir, 'status.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TargetStatus;
  } catch {
    return null;
  }
}

function filesMatching(dir: string, re: RegExp): string[] {
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * What the module build reads of the kernel: the lab's extracted headers tree as a whole (its
 * Makefile includes the -common tree, its scripts link into the kbuild tools), by the path the
 * Makefile names and by its real path when a link lies on the way.
 */
export function kernelReadable(kernel: TargetKernel): string[] {
  const tree = kernel.buildTree ?? kernel.buildDir;
  const real = existsSync(tree) ? realpathSync(tree) : tree;
  return real === tree ? [tree] : [tree, real];
}

export function runSide(source: SideSource, ctx: SideContext): Promise<SideRun> {
  return withHelperBuilds(ctx.helpers ?? { onTempDir: ctx.onTempDir }, (helpers) => runSideWith(source, ctx, helpers));
}

async function runSideWith(source: SideSource, ctx: SideContext, helpers: HelperBuilds): Promise<SideRun> {
  const run: SideRun = { side: source.side, ref: source.ref, sha: source.sha, status: 'ok', timings: {} };
  mkdirSync(ctx.outDir, { recursive: true });
  const built = await buildSide(source, ctx, run);
  if ('failed' in built) return built.failed;
  const { module, moduleDir } = built;
  const nm = readOnce(module.path);
  const { track, leftOut } = await chooseTrack(nm, ctx, run);
  ctx.onBuilt?.(module.path);
  const planned = await planJob(ctx, helpers, run, { module, nm, moduleDir, track, leftOut });
  const { job } = planned;
  const jobFile = join(ctx.outDir, 'job.json');
  writeFileSync(jobFile, `${JSON.stringify(job, null, 2)}\n`);

  const { outcome, status } = await runJob(source, ctx, run, { module, moduleDir, job, jobFile });
  if (planned.changed && status) {
    // The init and exit functions ran if the module loaded and unloaded cleanly.
    const aliases = aliasNames(await nm.symbols());
    const ranLifecycle = status.status === 'ok' ? { load: aliases.get('init_module'), unload: aliases.get('cleanup_module') } : {};
    run.changed = changedCalls(planned.changed, status.calls, ranLifecycle);
  }
  // The kernel died in the error-path sweep: the cycles' results were written before it began.
  const sweepEnd = outcome.failure && status?.errorSweep === 'running' ? sweepEndOf(outcome.failure) : undefined;
  if (outcome.failure && !sweepEnd) {
    return { ...run, status: outcome.failure.status, reason: outcome.failure.reason, logExcerpt: outcome.failure.excerpt };
  }
  if (!status) {
    return { ...run, status: 'setup-failed', reason: `the kernel-side run wrote no status (exit ${outcome.exitCode})`, logExcerpt: outcome.output };
  }
  takeStatus(run, status, ctx.outDir);
  const trace = join(ctx.outDir, 'trace.txt');
  if (existsSync(trace) && status.status !== 'load-failed') {
    const analyzing = stopwatch();
    await analyzeSide(source, ctx, run, { module, nm, trace, status, track, leftOut, job, sweepEnd });
    run.timings.analysis = analyzing();
  }
  return run;
}

/** What nm says of the built module (its symbols, its imports), each read once, when first asked for. */
interface ModuleNm {
  symbols(): Promise<string>;
  imports(): Promise<string[]>;
}

function readOnce(ko: string): ModuleNm {
  let symbols: Promise<string> | undefined;
  let imports: Promise<string[]> | undefined;
  return {
    symbols: () => {
      symbols ??= moduleSymbols(ko);
      return symbols;
    },
    imports: () => {
      imports ??= moduleImports(ko);
      return imports;
    },
  };
}

function addNote(run: SideRun, note: string): void {
  run.notes = [...(run.notes ?? []), note];
}

function firstLine(e: unknown): string {
  return (e as Error).message.split('\n')[0];
}

/** Builds the side's module in the sandbox and checks it fits the target kernel; or the side's failed run. */
async function buildSide(source: SideSource, ctx: SideContext, run: SideRun): Promise<{ module: BuiltModule; moduleDir: string } | { failed: SideRun }> {
  const moduleDir = resolve(source.dir, ctx.plan.build.moduleDir);
  if (!existsSync(moduleDir)) {
    const reason = `module-dir ${ctx.plan.build.moduleDir} does not exist in ${source.side} (${source.sha.slice(0, 12) || source.ref})`;
    return { failed: { ...run, status: 'setup-failed', reason } };
  }
  const folders = { writable: [source.dir, ...(ctx.plan.build.writable ?? [])], readable: kernelReadable(ctx.runner.kernel) };
  const launcher = ctx.sandbox ?? findSandboxLauncher();
  ctx.log(`${source.side}: building in ${moduleDir}`);
  ctx.log(`${source.side}: ${describeSandbox(folders, launcher)}`);
  const built = await buildModule({
    wrap: sandboxWrapper(folders, launcher),
    // A build that hangs (or a Makefile that waits on purpose) ends at the same limit as the run.
    timeoutSeconds: ctx.plan.timeoutSeconds,
    moduleDir,
    buildCommand: ctx.plan.build.buildCommand,
    kernelBuildDir: ctx.runner.kernel.buildDir,
    env: ctx.plan.build.env,
    output: ctx.plan.build.output,
    plans: ctx.plan.build.plans,
    log: (line) => ctx.log(`${source.side}: ${line}`),
  });
  run.timings.build = built.seconds;
  writeFileSync(join(ctx.outDir, 'build.log'), built.log);
  if (!built.ok) return { failed: { ...run, status: 'build-failed', reason: built.reason ?? 'the build failed', logExcerpt: built.excerpt } };
  // With `output`, buildModule already checked that exact file and lists only it.
  const module = chooseModule(built.modules, ctx.plan.build.moduleName);
  if (typeof module === 'string') return { failed: { ...run, status: 'build-failed', reason: module } };
  const mismatch = vermagicMismatch(module.path, await readVermagic(module.path), ctx.runner.kernel.release);
  if (mismatch) return { failed: { ...run, status: 'setup-failed', reason: mismatch } };
  return { module, moduleDir };
}

/**
 * The pairs to trace: found in the module's imports (track: auto), or the named ones with the
 * allocators the module imports that they leave out (counted by the apiwatch helper).
 */
async function chooseTrack(nm: ModuleNm, ctx: SideContext, run: SideRun): Promise<{ track: PairSpec[]; leftOut?: string[] }> {
  const imports = await nm.imports();
  if (ctx.plan.track === 'auto') {
    const found = autoTrack(imports);
    run.tracked = found.found;
    for (const line of found.found) ctx.log(`${run.side}: track auto: ${line}`);
    return { track: found.pairs };
  }
  const leftOut = untrackedAllocators(ctx.plan.track, imports);
  if (leftOut.length > 0) addNote(run, leftOutNote(leftOut));
  return { track: ctx.plan.track, leftOut };
}

/** The kernel-side job and what it adds to the cycles: the changed functions' calls, the error-path sweep, the witnesses of untraced memory. */
async function planJob(
  ctx: SideContext,
  helpers: HelperBuilds,
  run: SideRun,
  o: { module: BuiltModule; nm: ModuleNm; moduleDir: string; track: PairSpec[]; leftOut?: string[] },
): Promise<{ job: TargetJob; changed: string[] | null }> {
  const { module, nm, leftOut } = o;
  const job = targetJob(ctx, module, o.moduleDir, o.track, ctx.runner.kernel);
  let changed: string[] | null = null;
  const baseKo = await ctx.changedFrom;
  if (baseKo) {
    try {
      changed = await findChangedFunctions(baseKo, module.path);
      const counted = entrySymbols(
        changed,
        parseNm(await nm.symbols()).map((s) => s.name),
      );
      if (counted.length > 0) job.countCalls = counted;
    } catch (e) {
      addNote(run, `changed code: not found: ${firstLine(e)}`);
    }
  }
  if (ctx.plan.errorPaths === 'auto' || ctx.plan.errorPaths === 'all') {
    try {
      const helper = await helpers.module(FAILSITE, ctx.runner.kernel.buildDir);
      job.sweep = { ...sweepJob(helper, await nm.imports(), await nm.symbols(), ctx.outDir), bound: ctx.plan.errorPaths };
    } catch (e) {
      addNote(run, `error paths: not swept: ${firstLine(e)}`);
    }
  }
  if (job.tracing !== false && leftOut && vmallocWitnessed(leftOut).length > 0) job.vmallocWatch = true;
  if (job.tracing !== false && (leftOut === undefined || leftOut.length > 0)) {
    try {
      const helperPath = await helpers.module(API_WATCH, ctx.runner.kernel.buildDir);
      job.apiWatch = leftOut === undefined ? { helperPath } : { helperPath, own: true };
    } catch (e) {
      const what = leftOut === undefined ? 'memory from kernel APIs' : `the objects of ${leftOut.join(', ')}`;
      addNote(run, `${what}: not counted, the apiwatch helper did not build: ${firstLine(e)}`);
    }
  }
  return { job, changed };
}

/** Runs the job on the target, with the folders it reads shared; the outcome and the status the kernel side wrote. */
async function runJob(
  source: SideSource,
  ctx: SideContext,
  run: SideRun,
  o: { module: BuiltModule; moduleDir: string; job: TargetJob; jobFile: string },
): Promise<{ outcome: TargetOutcome; status: TargetStatus | null }> {
  const { job } = o;
  ctx.log(`${source.side}: running ${ctx.plan.cycles} cycles on ${ctx.runner.describe()}`);
  const running = stopwatch();
  ctx.onUndoFile?.(join(ctx.outDir, 'cleanup-state.json'));
  const shares = [
    source.dir,
    dirname(o.module.path),
    ...(ctx.plan.guestFolders ?? []),
    ...(job.sweep ? [dirname(job.sweep.helperPath)] : []),
    ...(job.apiWatch ? [dirname(job.apiWatch.helperPath)] : []),
    ...(ctx.plan.nics?.driverModule ? [dirname(ctx.plan.nics.driverModule)] : []),
  ];
  const outcome = await ctx.runner.run(o.jobFile, ctx.outDir, o.moduleDir, shares);
  if (outcome.accel) run.accel = outcome.accel;
  run.timings.run = running();
  Object.assign(run.timings, outcome.timings);
  return { outcome, status: readStatus(ctx.outDir) };
}

/** What the kernel side's status says of the run: its status and reason, its timings, its files and notes. */
export function takeStatus(run: SideRun, status: TargetStatus, outDir: string): void {
  run.status = status.status;
  if (status.reason) run.reason = status.reason;
  if (status.logExcerpt) run.logExcerpt = status.logExcerpt;
  run.timings.load = status.timings.load;
  run.timings.cycles = Math.round(status.timings.cycles.reduce((s, c) => s + c.totalSeconds, 0) * 100) / 100;
  run.timings.unload = status.timings.unload;
  // The kernel side's own time: what the VM took beyond it and its boot is node's start and the guest's set-up.
  run.timings.job = status.timings.total;
  run.artifacts = status.files.map((f) => join(outDir, f));
  if (status.notes.length > 0) run.notes = [...(run.notes ?? []), ...status.notes];
}

/** The trace analyzed against the module's map, the memory no probe saw, the call sites located in the source, and the error-path sweep read. */
async function analyzeSide(
  source: SideSource,
  ctx: SideContext,
  run: SideRun,
  o: {
    module: BuiltModule;
    nm: ModuleNm;
    trace: string;
    status: TargetStatus;
    track: PairSpec[];
    leftOut?: string[];
    job: TargetJob;
    sweepEnd?: SweepEnd;
  },
): Promise<void> {
  const { module, status } = o;
  const pairs = status.tracing?.track ?? o.track;
  const map = new ModuleMap(module.name, await o.nm.symbols(), status.sections);
  const slab = ['slabinfo-before.txt', 'slabinfo-after.txt'].map((f) => join(ctx.outDir, f));
  const slabUsable = slab.every((f) => existsSync(f) && statSync(f).size > 0);
  const profile = join(ctx.outDir, 'kprobe-profile.txt');
  const analysis = await analyzeTraces({
    traces: [o.trace],
    pairs,
    stats: filesMatching(ctx.outDir, /^stats-cpu\d+\.txt$/),
    slabinfo: slabUsable ? slab : undefined,
    kprobeProfile: existsSync(profile) ? profile : undefined,
    moduleMap: map,
  });
  run.analysis = analysis;
  addUntracedMemory(analysis, ctx.outDir, status.files, ctx.plan.cycles, map, o.leftOut);
  await locateCallers(analysis, map, module.path, source.dir);
  if (!o.job.sweep) return;
  const errorPaths = await readErrorPaths(ctx.outDir, {
    ko: module.path,
    moduleName: module.name,
    symbolsText: await o.nm.symbols(),
    pairs,
    root: source.dir,
    ...(o.sweepEnd ? { end: o.sweepEnd } : {}),
    leftovers: cycleLeftovers(analysis),
  });
  if (errorPaths) run.errorPaths = errorPaths;
  if (errorPaths?.stopped) {
    const left = errorPaths.notSwept?.length ?? 0;
    addNote(run, `error paths: ${errorPaths.stopped}${left > 0 ? `; ${left} site${left === 1 ? '' : 's'} not swept` : ''}`);
  }
}
