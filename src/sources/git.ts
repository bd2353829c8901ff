// One wrapper over the git command line: runs it, collects stdout and stderr, and turns a
// failure into an error that shows the command and git's own message.
import { execFile } from 'node:child_process';
import { lastLines } from '../exec.js';

export class GitError extends Error {
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

export const git: Git = (args, cwd) =>
  new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          reject(new GitError(args, code, stderr || error.message));
        } else {
          resolve(stdout.trim());
        }
      },
    );
  });
