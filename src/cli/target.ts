// `alloc-balance target run --job FILE` and `alloc-balance target cleanup --state FILE`.
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseTargetJob } from '../kernel-side/job.js';
import { runTargetJob } from '../kernel-side/run-job.js';
import { cleanupFromState } from '../kernel-side/cleanup-state.js';
import { RunAborted } from '../kernel-side/abortable.js';
import { usageLine } from './help.js';
import { readArgs } from './args.js';
import { EXIT } from './exit-codes.js';

const USAGE = usageLine('target');

/** The file the subcommand takes: `--job FILE` for run, `--state FILE` for cleanup. */
function fileOption(sub: 'run' | 'cleanup', name: 'job' | 'state', args: string[]): string {
  const { values } = readArgs(`target ${sub}`, args, { [name]: { type: 'string' } });
  const file = values[name];
  if (file === undefined || file === '') throw new UsageError(`target ${sub}: --${name} FILE is required (${USAGE})`);
  return file;
}

function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UsageError(`target ${what} must run as root (it loads modules and writes tracefs): run it with sudo`);
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

async function run(args: string[]): Promise<number> {
  const jobFile = fileOption('run', 'job', args);
  let text: string;
  try {
    text = readFileSync(jobFile, 'utf8');
  } catch (e) {
    throw new UsageError(`target run: cannot read job ${jobFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const job = parseTargetJob(text, jobFile);
  requireRoot('run');

  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) {
      console.error(`alloc-balance target: ${sig} again; still restoring the kernel's state, please wait`);
      return;
    }
    received = sig;
    console.error(`alloc-balance target: ${sig}: stopping the workload, unloading the module and restoring tracing`);
    controller.abort(new RunAborted('cancelled', `the run was cancelled by ${sig}`));
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    const result = await runTargetJob(job, { signal: controller.signal, log: (l) => console.error(`alloc-balance target: ${l}`) });
    const s = result.status;
    console.log(`status: ${s.status}${s.reason ? ` (${s.reason})` : ''}`);
    console.log(`written: ${result.statusFile}`);
    for (const p of s.restoreProblems) console.error(`alloc-balance target: could not restore: ${p}`);
    if (s.restoreProblems.length)
      console.error(`alloc-balance target: run \`alloc-balance target cleanup --state ${job.stateFile ?? `${job.outDir}/cleanup-state.json`}\``);
    // The status is written: a process the run could not stop (stuck in the kernel after an
    // injected failure, which not even SIGKILL ends) must not keep this one, and the VM, alive.
    setTimeout(() => process.exit(), 2000).unref();
    if (received) return 128 + (SIGNAL_NUMBERS[received] ?? 15);
    return result.exitCode;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

async function cleanup(args: string[]): Promise<number> {
  const stateFile = fileOption('cleanup', 'state', args);
  if (!existsSync(stateFile)) {
    throw new UsageError(`target cleanup: --state ${stateFile}: no such file; give the cleanup-state.json a run wrote in its out dir`);
  }
  requireRoot('cleanup');
  const r = await cleanupFromState(stateFile);
  for (const n of r.notes) console.error(`alloc-balance target cleanup: ${n}`);
  if (r.nothingToDo) {
    console.log('cleanup: nothing to do (the run restored everything)');
    return EXIT.ok;
  }
  for (const p of r.problems) console.error(`alloc-balance target cleanup: could not restore: ${p}`);
  console.log(`cleanup: ${r.undone} step(s), ${r.problems.length} problem(s)`);
  return r.problems.length ? EXIT.fail : EXIT.ok;
}

export async function targetCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'run') return run(rest);
  if (sub === 'cleanup') return cleanup(rest);
  throw new UsageError(`target: ${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'} (${USAGE})`);
}
