// What `lab setup` prepared: one kernel per release, recorded in <labDir>/manifest.json so that
// later runs find it without touching apt.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { compareReleases, KERNEL_SPEC_HINT, parseKernelSpec, specMatches } from './kernel-spec.js';

/** A kernel the VM target can boot, with the headers to build modules for it. */
export interface LabKernel {
  /** `uname -r` of the guest, e.g. `6.1.0-56-amd64`. */
  release: string;
  /** Kernel to boot: the uncompressed ELF vmlinux (PVH boot), or the bzImage when extraction was not possible. */
  vmlinux: string;
  /** The lab's initramfs (busybox, 9p/virtio/overlay modules, /init). */
  initrd: string;
  /** Kbuild directory of the matching headers: `make -C <buildDir> M=<module dir> modules`. */
  buildDir: string;
  /** The extracted headers' root, which buildDir's links and includes point into (the module build reads it all). */
  buildTree?: string;
  /** The image's `lib/modules/<release>` (in-tree modules). */
  modulesDir: string;
}

export interface LabStep {
  name: string;
  seconds: number;
}

export interface LabManifestEntry extends LabKernel {
  /** Debian package the image came from and its version (the headers and kbuild are at the same version). */
  imagePackage: string;
  imageVersion: string;
  /** 'pvh': vmlinux is the ELF; 'bzimage': vmlinux is the compressed image (slower boot). */
  bootMode: 'pvh' | 'bzimage';
  /** Fingerprint of the /init the initramfs holds: a newer alloc-balance rebuilds the initramfs. */
  initFingerprint: string;
  preparedAt: string;
  steps: LabStep[];
}

export interface LabManifest {
  version: 1;
  kernels: Record<string, LabManifestEntry>;
}

export const LAB_DIR_ENV = 'ALLOC_BALANCE_LAB';
const SETUP_HINT = 'run `sudo node dist/cli.js lab setup` (or `alloc-balance lab setup`) first';

export function defaultLabDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[LAB_DIR_ENV] || '/var/cache/alloc-balance/lab';
}

export function manifestPath(labDir: string): string {
  return join(labDir, 'manifest.json');
}

export function readManifest(labDir: string): LabManifest {
  const file = manifestPath(labDir);
  if (!existsSync(file)) return { version: 1, kernels: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`lab manifest ${file} is not valid JSON (${(error as Error).message}); delete it and ${SETUP_HINT}`);
  }
  const m = parsed as Partial<LabManifest>;
  if (m?.version !== 1 || typeof m.kernels !== 'object' || m.kernels === null) {
    throw new UsageError(`lab manifest ${file} has an unknown format; delete it and ${SETUP_HINT}`);
  }
  return m as LabManifest;
}

/** Files an entry points to that are missing (an empty list: the entry is usable). */
export function missingFiles(entry: LabKernel): string[] {
  return [entry.vmlinux, entry.initrd, join(entry.buildDir, 'Makefile'), entry.modulesDir].filter((f) => !existsSync(f));
}

/** What a lab directory holds for a release: a usable kernel, or why there is none. */
export type LabInspection = { kernel: LabManifestEntry } | { problem: string };

/**
 * The prepared kernel for `kernel` (a line: its newest prepared release; empty: the default line)
 * with its files present, or what is wrong.
 */
export function inspectLab(kernel = '', labDir = defaultLabDir()): LabInspection {
  const spec = parseKernelSpec(kernel);
  if (!spec) return { problem: `kernel "${kernel}" is not ${KERNEL_SPEC_HINT}` };
  const manifest = readManifest(labDir);
  const entry = Object.values(manifest.kernels)
    .filter((k) => specMatches(spec, k.release))
    .sort((a, b) => compareReleases(b.release, a.release))[0];
  const named = 'line' in spec ? `kernel of line ${spec.line}` : `kernel ${spec.release}`;
  if (!entry) return { problem: `VM lab in ${labDir} has no ${named} prepared` };
  const missing = missingFiles(entry);
  if (missing.length) return { problem: `VM lab kernel ${entry.release} is incomplete (missing ${missing.join(', ')})` };
  return { kernel: entry };
}

/**
 * The prepared kernel for `kernel` (see inspectLab), without running any setup.
 * Throws a UsageError saying how to prepare it when there is none.
 */
export function findLabKernel(kernel = '', labDir = defaultLabDir()): LabManifestEntry {
  const found = inspectLab(kernel, labDir);
  if ('kernel' in found) return found.kernel;
  const absent = found.problem.endsWith(' prepared');
  throw new UsageError(`${found.problem}: ${SETUP_HINT}${absent && kernel ? ` with --kernel ${kernel}` : ''}`);
}

/** The lab folder a kernel was prepared in (it keeps each kernel in a folder of its own: <lab>/<release>/vmlinux). */
export function labDirOf(kernel: Pick<LabKernel, 'vmlinux'>): string {
  return dirname(dirname(kernel.vmlinux));
}
