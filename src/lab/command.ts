// Runs the lab's helper programs (apt, dpkg, modprobe, xz) and collects their output.
import { spawn } from 'node:child_process';
import { UsageError } from '../errors.js';
import { lastLines } from '../exec.js';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  run(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CommandResult>;
}

export const spawnRunner: CommandRunner = {
  run(cmd, args, opts = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new UsageError(`${cmd} is not installed (needed by the VM lab)`) : e));
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    });
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
