// git for the demo's repositories, which are made synchronously, their commits signed by the
// module they hold.
import { failureLine, runSync } from '../process/run-sync.js';

/** `git ARGS` in `dir`, commits authored and committed as `name`; its output, trimmed. */
export function gitAs(name: string, dir: string, args: string[]): string {
  const identity = {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: `${name}@example.invalid`,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: `${name}@example.invalid`,
  };
  const r = runSync('git', args, { cwd: dir, env: { ...process.env, ...identity } });
  if (!r.ok) throw new Error(`git ${args.join(' ')} in ${dir}: ${failureLine(r)}`);
  return r.stdout.trim();
}
