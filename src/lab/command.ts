// Runs the lab's helper programs (apt, dpkg, modprobe, xz) and collects their output.
import { UsageError } from '../errors.js';
import { type CommandResult, runCommand } from '../process/run.js';
import { lastLines } from '../process/tail.js';

/** What the lab reads of a command's run (test doubles give only this). */
type LabCommandResult = Pick<CommandResult, 'code' | 'stdout' | 'stderr'>;

export interface CommandRunner {
  run(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<LabCommandResult>;
}

export const spawnRunner: CommandRunner = {
  async run(cmd, args, opts = {}) {
    // Unbounded: some outputs are data (a decompressed file as base64).
    const r = await runCommand(cmd, args, { env: opts.env, cwd: opts.cwd, maxOutput: Number.POSITIVE_INFINITY });
    if (r.spawnError === 'ENOENT') throw new UsageError(`${cmd} is not installed (needed by the VM lab)`);
    if (r.spawnError) throw new Error(r.error);
    return r;
  },
};

/** Runs a command and throws a one-line UsageError with its stderr tail when it fails. */
export async function mustRun(runner: CommandRunner, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<string> {
  const r = await runner.run(cmd, args, opts);
  if (r.code !== 0) {
    const tail = lastLines(r.stderr || r.stdout, 3, ' | ');
    throw new UsageError(`\`${[cmd, ...args].join(' ')}\` failed (exit ${r.code}): ${tail}`);
  }
  return r.stdout;
}
