// A build expressed as data: files to write and programs to run, in order. The planners
// produce it without touching anything; runBuildPlan (or the shell script from planScript,
// e.g. as buildModule's buildCommand) carries it out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandWrapper } from '../sandbox/build-sandbox.js';
import { stopwatch } from '../elapsed.js';
import { shellCommand, shellQuote } from '../shell-quote.js';
import { runCommand } from '../process/run.js';

export type BuildStep = { kind: 'run'; argv: string[]; cwd?: string } | { kind: 'write'; path: string; content: string };

export interface BuildPlan {
  kind: 'meson' | 'kbuild' | 'make';
  /** Human-readable: why this way, what it builds. */
  description: string;
  steps: BuildStep[];
  /** Extra environment for every step. */
  env: Record<string, string>;
  /** What the plan produces (a .ko or a program): absent after the plan ran means it failed. */
  output: string;
}

/** The plan as one POSIX shell script (`set -e`, each step on its own line). */
export function planScript(plan: BuildPlan): string {
  const lines = ['set -e'];
  for (const [k, v] of Object.entries(plan.env)) lines.push(`export ${k}=${shellQuote(v)}`);
  for (const step of plan.steps) {
    if (step.kind === 'write') {
      lines.push(`mkdir -p ${shellQuote(dirname(step.path))}`);
      lines.push(`printf '%s' ${shellQuote(step.content)} > ${shellQuote(step.path)}`);
    } else {
      const cmd = shellCommand(step.argv);
      lines.push(step.cwd ? `(cd ${shellQuote(step.cwd)} && ${cmd})` : cmd);
    }
  }
  return lines.join('\n');
}

interface StepOutcome {
  step: BuildStep;
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
}

interface PlanRunResult {
  ok: boolean;
  /** The output of every step (its tail, bounded). */
  log: string;
  steps: StepOutcome[];
  /** One line: the step that failed and how. */
  reason?: string;
  /** The failed step's own output (its tail): the compiler's or meson's words. */
  failedOutput?: string;
}

interface PlanRunOptions {
  /** Progress lines: each step as it starts, ninja/make progress now and then. */
  log?: (line: string) => void;
  env?: Record<string, string>;
  /** Seconds between two progress lines of one step. */
  progressEvery?: number;
  /** Runs every step in a sandbox (PR code): writes too, so that a link the tree planted cannot redirect them. */
  wrap?: CommandWrapper;
}

const MAX_LOG = 4 * 1024 * 1024;
const MAX_STEP_OUTPUT = 256 * 1024;

/** A ninja (`[12/392] ...`) or make (`  CC [M] ...`) progress line, shortened for a log. */
function progressLine(line: string): string | null {
  const ninja = /^\[(\d+)\/(\d+)\]\s+(.*)$/.exec(line);
  if (ninja) return `[${ninja[1]}/${ninja[2]}] ${ninja[3].slice(0, 100)}`;
  if (/^\s+(CC|LD|MODPOST)\b/.test(line)) return line.trim();
  return null;
}

/** A write step as a command, for the sandbox. */
/** A file written inside the sandbox: its content comes on standard input (an argument is limited to 128 KiB). */
function writeCommand(path: string): string[] {
  return ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', path];
}

async function runStep(
  argv: string[],
  cwd: string | undefined,
  env: Record<string, string>,
  wrap: CommandWrapper | undefined,
  onOutput: (s: string) => void,
  input?: string,
) {
  const spec = wrap ? wrap(argv, cwd ?? '/tmp', env) : { cmd: argv[0], args: argv.slice(1), env: { ...process.env, ...env } };
  const r = await runCommand(spec.cmd, spec.args, { cwd: wrap ? undefined : cwd, env: spec.env, maxOutput: MAX_STEP_OUTPUT, onOutput, input });
  const error = r.spawnError === undefined ? undefined : r.spawnError === 'ENOENT' ? `${argv[0]}: not found` : r.error;
  return { code: r.code, signal: r.signal, error, output: r.output };
}

/** Carries out a plan; stops at the first failing step. */
export async function runBuildPlan(plan: BuildPlan, opts: PlanRunOptions = {}): Promise<PlanRunResult> {
  let log = '';
  const append = (s: string) => {
    log += s;
    if (log.length > MAX_LOG * 2) log = log.slice(-MAX_LOG);
  };
  const env: Record<string, string> = { LANG: 'C', LC_ALL: 'C', ...plan.env, ...opts.env };
  const every = (opts.progressEvery ?? 15) * 1000;
  const outcomes: StepOutcome[] = [];
  for (const step of plan.steps) {
    const elapsed = stopwatch();
    if (step.kind === 'write' && !opts.wrap) {
      try {
        mkdirSync(dirname(step.path), { recursive: true });
        writeFileSync(step.path, step.content);
      } catch (e) {
        return { ok: false, log, steps: outcomes, reason: `cannot write ${step.path}: ${(e as Error).message}` };
      }
      outcomes.push({ step, code: 0, signal: null, seconds: 0 });
      continue;
    }
    const argv = step.kind === 'write' ? writeCommand(step.path) : step.argv;
    const cwd = step.kind === 'write' ? undefined : step.cwd;
    const command = step.kind === 'write' ? `write ${step.path}` : shellCommand(argv);
    append(`$ ${command}\n`);
    opts.log?.(`$ ${command.length > 200 ? `${command.slice(0, 200)}...` : command}`);
    let partial = '';
    let lastProgress = Date.now();
    const r = await runStep(
      argv,
      cwd,
      env,
      opts.wrap,
      (text) => {
        append(text);
        if (!opts.log) return;
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        if (Date.now() - lastProgress < every) return;
        for (let i = lines.length - 1; i >= 0; i--) {
          const p = progressLine(lines[i]);
          if (p) {
            opts.log(`  ${p} (${Math.round(elapsed())} s)`);
            lastProgress = Date.now();
            break;
          }
        }
      },
      step.kind === 'write' ? step.content : undefined,
    );
    outcomes.push({ step, code: r.code, signal: r.signal, seconds: elapsed() });
    if (r.code !== 0) {
      const how = r.error ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
      return {
        ok: false,
        log: log.slice(-MAX_LOG),
        steps: outcomes,
        reason: `${argv[0]} failed (${how}): ${command}`,
        failedOutput: r.error && !r.output ? r.error : r.output,
      };
    }
  }
  return { ok: true, log: log.slice(-MAX_LOG), steps: outcomes };
}
