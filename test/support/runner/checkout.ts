// actions/checkout, as it lays out a workspace: `git init`, origin set to the repository's
// GitHub URL (which the emulated runner's git configuration maps onto a local fixture
// repository), a fetch of the one commit at `fetch-depth` (default 1), a detached checkout of it,
// and - unless `persist-credentials: false` - the job's token kept in .git/config as the
// extraheader actions/checkout writes, where every later git command of the job finds it.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export interface CheckoutCall {
  workspace: string;
  /** `owner/name`. */
  repository: string;
  /** The commit to check out and the ref it is fetched as. */
  sha: string;
  ref: string;
  token: string;
  /** `with:` of the step, already evaluated. */
  with: Record<string, string>;
  env: Record<string, string>;
}

const KNOWN_INPUTS = ['persist-credentials', 'fetch-depth', 'ref', 'repository', 'token', 'path', 'clean', 'lfs', 'submodules', 'fetch-tags'];

export function checkout(c: CheckoutCall): string {
  for (const k of Object.keys(c.with)) if (!KNOWN_INPUTS.includes(k)) throw new Error(`actions/checkout: the emulation does not know the input ${k}`);
  if (c.with.repository && c.with.repository !== c.repository)
    throw new Error(`actions/checkout: the emulation serves ${c.repository} only, not ${c.with.repository}`);
  if (c.with.path || c.with.ref) throw new Error('actions/checkout: the emulation checks out the event commit into the workspace only (no path, no ref)');
  const log: string[] = [];
  const git = (args: string[]) => {
    log.push(`git ${args.join(' ')}`);
    return execFileSync('git', args, { cwd: c.workspace, env: c.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  };
  mkdirSync(c.workspace, { recursive: true });
  const depth = Number(c.with['fetch-depth'] ?? '1');
  const token = c.with.token || c.token;
  git(['init', '-q']);
  git(['remote', 'add', 'origin', `https://github.com/${c.repository}`]);
  if ((c.with['persist-credentials'] ?? 'true') !== 'false') {
    // actions/checkout: AUTHORIZATION: basic base64("x-access-token:<token>") for github.com.
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    git(['config', '--local', 'http.https://github.com/.extraheader', `AUTHORIZATION: basic ${basic}`]);
  }
  const remoteRef = c.ref.replace(/^refs\/heads\//, 'refs/remotes/origin/').replace(/^refs\/pull\//, 'refs/remotes/pull/');
  git(['-c', 'protocol.version=2', 'fetch', '--no-tags', '--prune', ...(depth > 0 ? [`--depth=${depth}`] : []), 'origin', `+${c.sha}:${remoteRef}`]);
  git(['checkout', '--progress', '--force', remoteRef]);
  const head = git(['rev-parse', 'HEAD']);
  if (head !== c.sha) throw new Error(`actions/checkout: HEAD is ${head}, not ${c.sha}`);
  return log.join('\n');
}
