// Builds an out-of-tree module with its build command (Kbuild by default) and finds the
// .ko files it produced.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCommand } from '../process/run.js';
import { stopwatch } from '../elapsed.js';
import { buildExcerpt } from './build-log.js';
import { runBuildPlan, type BuildPlan } from './build-plan.js';
import type { CommandWrapper } from '../sandbox/build-sandbox.js';
import { moduleName } from '../core/module-name.js';

const DEFAULT_BUILD_COMMAND = 'make -C "$KDIR" M="$PWD" modules';

interface BuildRequest {
  moduleDir: string;
  /** Shell command run in moduleDir; empty: DEFAULT_BUILD_COMMAND. $KDIR and $PWD are set. */
  buildCommand?: string;
  /** Kbuild directory of the target kernel (`/lib/modules/<release>/build`). */
  kernelBuildDir: string;
  env?: Record<string, string>;
  timeoutSeconds?: number;
  /** The .ko the command writes outside moduleDir (a preset's build dir): checked instead of searched for. */
  output?: string;
  /** A build given as plans (a preset's), run step by step instead of buildCommand. */
  plans?: PlannedBuild[];
  /** Progress of plans: each step, and ninja/make progress now and then. */
  log?: (line: string) => void;
  /** The sandbox every command of the build runs in (the PR's Makefile is untrusted code). */
  wrap?: CommandWrapper;
}

export interface PlannedBuild {
  plan: BuildPlan;
  /** A file whose presence means this plan's result is there already (a cached program). */
  skipWhenPresent?: string;
  /** Shared by the sides that run this same plan: once it failed, a later side fails the same way without running it again. */
  attempt?: BuildAttempt;
}

/** What became of a plan the sides share (a cached user-space build): its failure, once it failed. */
export interface BuildAttempt {
  failed?: { reason: string; excerpt: string };
}

export interface BuiltModule {
  /** Module name as the kernel knows it (`-` becomes `_`). */
  name: string;
  path: string;
}

interface BuildResult {
  ok: boolean;
  modules: BuiltModule[];
  /** The whole build output (its last 4 MiB). */
  log: string;
  /** Compiler errors first, then the last lines: what a report shows. Empty when ok. */
  excerpt: string;
  /** One line: why the build failed. */
  reason?: string;
  seconds: number;
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '.tmp_versions']);

/** .ko files under dir modified at or after `since` (ms), depth-limited. */
function findKoFiles(dir: string, since: number, depth = 6): string[] {
  const found: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && depth > 0) found.push(...findKoFiles(p, since, depth - 1));
    else if (e.isFile() && e.name.endsWith('.ko') && statSync(p).mtimeMs >= since) found.push(p);
  }
  return found.sort();
}

export async function buildModule(req: BuildRequest): Promise<BuildResult> {
  const moduleDir = resolve(req.moduleDir);
  if (!existsSync(moduleDir)) {
    return { ok: false, modules: [], log: '', excerpt: '', reason: `module directory ${moduleDir} does not exist`, seconds: 0 };
  }
  if (!existsSync(join(req.kernelBuildDir, 'Makefile'))) {
    return {
      ok: false,
      modules: [],
      log: '',
      excerpt: '',
      reason: `kernel build directory ${req.kernelBuildDir} has no Makefile: install the kernel headers of the target kernel (linux-headers-<release>)`,
      seconds: 0,
    };
  }
  const dir = realpathSync(moduleDir);
  // Sub-second mtime granularity differs between filesystems: allow one second of slack.
  const since = Date.now() - 1000;
  if (req.plans) return runPlans(req, req.plans, since);
  const command = req.buildCommand?.trim() || DEFAULT_BUILD_COMMAND;
  // LC_ALL=C: plain quotes and English messages in the log a report shows.
  const env: Record<string, string> = { LANG: 'C', LC_ALL: 'C', ...req.env, KDIR: req.kernelBuildDir, PWD: dir };
  const spec = req.wrap ? req.wrap(['sh', '-c', command], dir, env) : { cmd: 'sh', args: ['-c', command], env: { ...process.env, ...env } };
  const r = await runCommand(spec.cmd, spec.args, { cwd: dir, env: spec.env, timeoutSeconds: req.timeoutSeconds });
  const log = r.error ? `${r.output}\n${r.error}` : r.output;
  if (r.code !== 0) {
    const how = r.error ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
    return buildFailed(log, buildExcerpt(log), `build command failed (${how}): ${command}`, r.seconds);
  }
  const found = req.output ? (existsSync(req.output) && statSync(req.output).mtimeMs >= since ? [req.output] : []) : findKoFiles(dir, since);
  const modules = found.map((path) => ({ name: moduleName(path), path }));
  if (modules.length === 0) {
    const reason = req.output
      ? `build command succeeded but did not produce ${req.output}`
      : `build command succeeded but built no .ko file under ${dir}: check build-command and module-dir`;
    return buildFailed(log, buildExcerpt(log), reason, r.seconds);
  }
  return { ok: true, modules, log, excerpt: '', seconds: r.seconds };
}

function buildFailed(log: string, excerpt: string, reason: string, seconds: number): BuildResult {
  return { ok: false, modules: [], log, excerpt, reason, seconds };
}

async function runPlans(req: BuildRequest, plans: PlannedBuild[], since: number): Promise<BuildResult> {
  const seconds = stopwatch();
  let log = '';
  for (const { plan, skipWhenPresent, attempt } of plans) {
    if (skipWhenPresent && existsSync(skipWhenPresent)) {
      req.log?.(`${plan.description}: ${skipWhenPresent} is there already`);
      continue;
    }
    const failedBefore = attempt?.failed;
    if (failedBefore) {
      req.log?.(`${plan.description}: failed on the side before (${failedBefore.reason}): not run again`);
      return buildFailed(log, failedBefore.excerpt, `${failedBefore.reason} (on the side before; not run again)`, seconds());
    }
    req.log?.(`${plan.description}`);
    const r = await runBuildPlan(plan, { log: req.log, env: req.env, wrap: req.wrap });
    log += r.log;
    if (!r.ok) {
      const failed = { reason: r.reason ?? 'the build failed', excerpt: buildExcerpt(r.failedOutput ?? r.log) };
      if (attempt) attempt.failed = failed;
      return buildFailed(log, failed.excerpt, failed.reason, seconds());
    }
  }
  const output = req.output ?? plans[plans.length - 1]?.plan.output;
  if (!output || !existsSync(output) || statSync(output).mtimeMs < since) {
    return buildFailed(log, buildExcerpt(log), `the build succeeded but did not produce ${output}`, seconds());
  }
  return { ok: true, modules: [{ name: moduleName(output), path: output }], log, excerpt: '', seconds: seconds() };
}
