// One wrapper over the git command line: runs it, collects stdout and stderr, and turns a
// failure into an error that shows the command and git's own message.
import { runCommand } from '../process/run.js';
import { lastLines } from '../process/tail.js';

class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed${code === null ? '' : ` (exit ${code})`}: ${lastLines(stderr, 3, ' | ') || 'no message'}`);
    this.name = 'GitError';
  }
}

export type Git = (args: string[], cwd: string) => Promise<string>;

export const git: Git = async (args, cwd) => {
  const r = await runCommand('git', args, { cwd, maxOutput: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
  if (r.code !== 0) throw new GitError(args, r.code, r.stderr || r.error || `Command failed: git ${args.join(' ')}`);
  return r.stdout.trim();
};
