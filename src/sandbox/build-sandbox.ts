// The module build (and a preset's builds) run the PR's Makefile, meson files and scripts: code
// from a possibly hostile fork. They run under bubblewrap: no network, the system read-only, only
// the side's own folders writable, a private /tmp, and nothing else of the host: no /home, /root,
// runner folders, workspace .git, other temp folders, and no environment but what the build is given.
import { failureLine, runSync } from '../process/run-sync.js';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { throughSudo } from '../process/as-root.js';
import { distinctFolders, type SystemView, systemView } from './system-view.js';

/** The folders one build may use, besides the system. */
interface SandboxFolders {
  /** Read-write: the side's tree, its build and cache folders. */
  writable: string[];
  /** Read-only: the target kernel's build folder (when outside /usr), the tree of a read-only source. */
  readable: string[];
}

/** How bubblewrap is started on this machine. */
export interface SandboxLauncher {
  bwrap: string;
  /** Through `sudo -n` (unprivileged user namespaces refused here); the build then drops to `uid:gid` inside. */
  sudo: boolean;
  uid: number;
  gid: number;
}

/** A command as it is spawned: program, arguments and the environment bubblewrap itself gets. */
interface SpawnSpec {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** Turns one build command into its sandboxed form. */
export type CommandWrapper = (argv: string[], cwd: string, env: Record<string, string>) => SpawnSpec;

const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const INSTALL_HINT = 'install bubblewrap (apt-get install bubblewrap, dnf install bubblewrap)';

/**
 * New namespaces for everything. An unprivileged caller gets a user namespace too; bubblewrap run by
 * root (directly or through sudo) keeps uid 0 with every capability dropped instead, because the
 * kernel refuses a user namespace to a chrooted process (a VM guest's job runs chrooted).
 */
function namespaces(launcher: SandboxLauncher): string[] {
  if (!launcher.sudo && launcher.uid !== 0) return ['--unshare-all'];
  return ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try', '--cap-drop', 'ALL'];
}

/** The bubblewrap arguments of one command (pure). */
export function bwrapArgs(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  folders: SandboxFolders,
  view: SystemView,
  launcher: SandboxLauncher,
): string[] {
  const args = [...namespaces(launcher), '--die-with-parent', '--new-session', '--clearenv'];
  for (const f of view.folders) args.push('--ro-bind', f, f);
  for (const l of view.links) args.push('--symlink', l.target, l.path);
  for (const e of view.etc) args.push('--ro-bind', e, e);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run', '--dir', '/var/tmp');
  const writable = distinctFolders(folders.writable, view.folders);
  for (const f of distinctFolders(folders.readable, [...view.folders, ...writable])) args.push('--ro-bind', f, f);
  for (const f of writable) args.push('--bind', f, f);
  const environment: Record<string, string> = { PATH: SANDBOX_PATH, HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C', LC_ALL: 'C', ...env };
  for (const [k, v] of Object.entries(environment)) args.push('--setenv', k, v);
  args.push('--chdir', cwd, '--');
  if (launcher.sudo) args.push('/usr/bin/setpriv', `--reuid=${launcher.uid}`, `--regid=${launcher.gid}`, '--clear-groups', '--');
  return [...args, ...argv];
}

/** A wrapper for the builds of one side; folders are created when missing (bubblewrap binds existing ones). */
export function sandboxWrapper(folders: SandboxFolders, launcher: SandboxLauncher, view: SystemView = systemView()): CommandWrapper {
  for (const f of folders.writable) mkdirSync(f, { recursive: true });
  const real = { writable: folders.writable.map((f) => realpathSync(f)), readable: folders.readable.filter((f) => existsSync(f)) };
  return (argv, cwd, env) => {
    const args = bwrapArgs(argv, cwd, env, real, view, launcher);
    const [cmd, ...rest] = launcher.sudo ? throughSudo([launcher.bwrap, ...args]) : [launcher.bwrap, ...args];
    return { cmd, args: rest, env: { PATH: SANDBOX_PATH, LANG: 'C' } };
  };
}

/** The smallest sandbox a build gets: the system only. */
function probeArgs(view: SystemView): string[] {
  return bwrapArgs(['true'], '/', {}, { writable: [], readable: [] }, view, { bwrap: '', sudo: false, uid: 0, gid: 0 });
}

function tryRun(cmd: string, args: string[]): { ok: boolean; why: string } {
  const r = runSync(cmd, args, { timeoutMs: 20_000, env: { PATH: SANDBOX_PATH } });
  if (r.error) return { ok: false, why: r.error === 'ENOENT' ? `${cmd} not found` : `${cmd}: ${r.error}` };
  return { ok: r.ok, why: r.ok ? '' : failureLine(r) };
}

let probed: SandboxLauncher | null = null;

/**
 * How to start bubblewrap here: directly (root, or unprivileged user namespaces allowed), else
 * through `sudo -n` (Ubuntu 24.04 restricts user namespaces through AppArmor). Throws a UsageError
 * naming the fixes when neither works: PR code is never built outside the sandbox.
 */
export function findSandboxLauncher(): SandboxLauncher {
  if (probed) return probed;
  const bwrap = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].find((p) => existsSync(p));
  if (!bwrap) throw new UsageError(`the module build runs the PR's code in a sandbox and needs bubblewrap (bwrap), which is not installed: ${INSTALL_HINT}`);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const probe = probeArgs(systemView());
  const direct = tryRun(bwrap, probe);
  if (direct.ok) {
    probed = { bwrap, sudo: false, uid, gid };
    return probed;
  }
  if (uid !== 0) {
    const [sudo, ...sudoArgs] = throughSudo([bwrap, ...probe]);
    const viaSudo = tryRun(sudo, sudoArgs);
    if (viaSudo.ok) {
      probed = { bwrap, sudo: true, uid, gid };
      return probed;
    }
    throw new UsageError(
      `the module build runs the PR's code in a sandbox, and bubblewrap cannot start here (${direct.why}; through sudo -n: ${viaSudo.why}): ` +
        'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0), ' +
        'or give the runner user passwordless sudo',
    );
  }
  throw new UsageError(`the module build runs the PR's code in a sandbox, and bubblewrap cannot start here as root: ${direct.why}`);
}

/** One line for the log: what the build's sandbox shows. */
export function describeSandbox(folders: SandboxFolders, launcher: SandboxLauncher): string {
  const w = folders.writable.join(', ');
  const r = folders.readable.length ? `; read-only also ${folders.readable.join(', ')}` : '';
  return `sandbox (bubblewrap${launcher.sudo ? ' through sudo -n' : ''}): no network, the system read-only, writable ${w}${r}; nothing else of this machine`;
}
