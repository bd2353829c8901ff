// The part of this machine that PR code may see: the installed system (programs, libraries,
// compilers, kernel headers under /usr) and a short allow-list of /etc. Nothing else of the host
// (/root, /home, runner folders, the workspace, other temp folders) is shown to the module build's
// sandbox or to the VM guest; each adds only the folders of the run itself.
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, sep } from 'node:path';

/** What programs need of /etc to run: users and groups, the dynamic linker, alternatives, locale and time. */
const ETC_ALLOW = [
  'passwd',
  'group',
  'nsswitch.conf',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'localtime',
  'timezone',
  'os-release',
  'debian_version',
  'lsb-release',
  'hosts',
  'host.conf',
  'protocols',
  'services',
  'mime.types',
  'perl',
] as const;

/** Python's own configuration folders (`/etc/python3`, `/etc/python3.11`): meson and DPDK's build scripts run Python. */
const ETC_PYTHON = /^python3(\.\d+)?$/;

/** Top-level folders that hold the system besides /usr: a symlink into /usr on merged-/usr systems. */
const SYSTEM_TOP = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

export interface SystemView {
  /** Folders shown read-only at their own path: /usr, and /bin etc. where they are real folders. */
  folders: string[];
  /** `/bin -> usr/bin` and the like, recreated as they are on the host. */
  links: { path: string; target: string }[];
  /** Absolute /etc entries that exist (files, folders or links), copied or bound one by one. */
  etc: string[];
}

export interface FsProbe {
  kind(path: string): 'dir' | 'link' | 'file' | 'none';
  readlink(path: string): string;
  list(dir: string): string[];
}

const hostFs: FsProbe = {
  kind(path) {
    try {
      const st = lstatSync(path);
      return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    } catch {
      return 'none';
    }
  },
  readlink: (path) => readlinkSync(path),
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};

export function systemView(fs: FsProbe = hostFs): SystemView {
  const folders = ['/usr'];
  const links: SystemView['links'] = [];
  for (const name of SYSTEM_TOP) {
    const path = `/${name}`;
    const kind = fs.kind(path);
    if (kind === 'dir') folders.push(path);
    else if (kind === 'link') links.push({ path, target: fs.readlink(path) });
  }
  const names = [...ETC_ALLOW, ...fs.list('/etc').filter((n) => ETC_PYTHON.test(n))];
  const etc = [...new Set(names)].map((n) => `/etc/${n}`).filter((p) => fs.kind(p) !== 'none');
  return { folders, links, etc };
}

/** True when `path` is `folder` or lies below it. */
export function isWithin(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * The folders to show, each once: resolved to their real path, those inside another one (or inside
 * the system's folders) dropped, parents before children.
 */
export function distinctFolders(paths: string[], covered: string[] = []): string[] {
  const real = paths.filter((p) => p !== '' && existsSync(p)).map((p) => realpathSync(p));
  const sorted = [...new Set(real)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const p of sorted) {
    if (p === '/') throw new Error('the whole host root cannot be shared with PR code');
    if (![...covered, ...kept].some((c) => isWithin(p, c))) kept.push(p);
  }
  return kept;
}

/** The installation folder of a program run from `<prefix>/bin/<name>` (Node's own layout). */
export function installPrefix(program: string): string {
  const real = existsSync(program) ? realpathSync(program) : program;
  const bin = dirname(real);
  return bin.endsWith(`${sep}bin`) ? dirname(bin) : bin;
}
