// The machine the lab is set up on: root, x86-64, and apt to install the lab's tools with.
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

type Distro = 'debian' | 'ubuntu';

export interface Platform {
  distro: Distro;
}

// What the runner's apt installs: never a kernel package (kernels come from Debian's archive,
// src/lab/debian-archive.ts). bubblewrap: the sandbox of the module build (src/sandbox);
// xz-utils and zstd: the compressed kernels and modules (6.12's); debian-archive-keyring: what
// verifies Debian's archive (also packaged by Ubuntu).
export const TOOL_PACKAGES = ['qemu-system-x86', 'busybox-static', 'cpio', 'xz-utils', 'zstd', 'kmod', 'bubblewrap', 'debian-archive-keyring'];

/** Reads /etc/os-release text into a distro, or null when it is neither Debian nor Ubuntu (nor derived). */
export function distroFromOsRelease(text: string): Distro | null {
  const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?`, 'm').exec(text)?.[1]?.toLowerCase() ?? '';
  const ids = [field('ID'), ...field('ID_LIKE').split(/\s+/)];
  if (ids.includes('ubuntu')) return 'ubuntu';
  if (ids.includes('debian')) return 'debian';
  return null;
}

export function detectPlatform(opts: { osRelease?: string; uid?: number; arch?: string } = {}): Platform {
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  if (uid !== 0) {
    throw new UsageError('lab setup installs packages and writes /var/cache: run it as root (sudo alloc-balance lab setup)');
  }
  const arch = opts.arch ?? process.arch;
  if (arch !== 'x64') {
    throw new UsageError(`lab setup supports x86_64 hosts only (this one is ${arch})`);
  }
  const osRelease = opts.osRelease ?? (existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '');
  const distro = distroFromOsRelease(osRelease);
  if (!distro || (opts.osRelease === undefined && !existsSync('/usr/bin/apt-get'))) {
    throw new UsageError('lab setup supports Debian and Ubuntu (apt-get) hosts only: run the VM target on a Debian or Ubuntu runner, or use target: host');
  }
  return { distro };
}
