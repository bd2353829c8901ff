// `lab setup`: installs QEMU, busybox and the kernel headers, downloads the matching kernel image
// (without installing it), extracts a PVH-bootable vmlinux and builds the lab's initramfs.
// Idempotent: a release already in the manifest with its files present is returned at once.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { type CommandRunner, mustRun, spawnRunner } from './command.js';
import { type CpioEntry, cpioArchive } from './cpio.js';
import { initFingerprint, initScript } from './guest-scripts.js';
import { compareReleases, defaultLabDir, type LabManifestEntry, type LabStep, manifestPath, missingFiles, readManifest } from './lab-kernel.js';
import { detectPlatform, type Platform, TOOL_PACKAGES } from './platform.js';
import { extractVmlinux } from './vmlinux.js';

export interface SetupOptions {
  /** Kernel release, e.g. `6.1.0-56-amd64`; empty: the newest installed headers with an image available. */
  release?: string;
  labDir?: string;
  runner?: CommandRunner;
  log?: (line: string) => void;
  /** For tests of the refusal paths. */
  platform?: Platform;
  /** Hands the lab directory to this user when done (a set-up run through sudo for a runner user). */
  owner?: { uid: number; gid: number };
}

/** Modules the initramfs loads (with their dependencies) to reach the host root and the out share. */
export const GUEST_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

type StepFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

interface SetupContext {
  runner: CommandRunner;
  log: (line: string) => void;
  platform: Platform;
  apt: Apt;
  steps: LabStep[];
  step: StepFn;
}

function setupContext(opts: SetupOptions): SetupContext {
  const runner = opts.runner ?? spawnRunner;
  const log = opts.log ?? (() => {});
  const platform = opts.platform ?? detectPlatform();
  const steps: LabStep[] = [];
  const step: StepFn = async (name, fn) => {
    const t0 = performance.now();
    const value = await fn();
    const seconds = round((performance.now() - t0) / 1000);
    steps.push({ name, seconds });
    log(`${name}: ${seconds} s`);
    return value;
  };
  return { runner, log, platform, apt: new Apt(runner, log), steps, step };
}

/**
 * Installs the lab's apt packages (QEMU, busybox, the kernel headers) and names the release
 * `setupLab` would prepare, without preparing it: the action keys its cache by that release.
 */
export async function planLab(opts: SetupOptions = {}): Promise<string> {
  return chooseRelease(setupContext(opts), opts.release ?? '', () => false);
}

export async function setupLab(opts: SetupOptions = {}): Promise<LabManifestEntry> {
  const ctx = setupContext(opts);
  const labDir = opts.labDir ?? defaultLabDir();
  const entry = await prepareKernel(ctx, labDir, opts.release ?? '');
  // Set up through sudo for a runner user, who must read, cache and restore the lab afterwards.
  if (opts.owner) await mustRun(ctx.runner, 'chown', ['-R', `${opts.owner.uid}:${opts.owner.gid}`, labDir]);
  return entry;
}

/** The release to prepare: `wanted`, or the newest installed headers (installing the meta package when none are) with an image apt can download. */
async function chooseRelease(ctx: SetupContext, wanted: string, isPrepared: (release: string) => boolean): Promise<string> {
  const { apt, platform, step } = ctx;
  if (wanted) {
    const headers = `linux-headers-${wanted}`;
    if ((await apt.missing([headers])).length && !(await apt.candidate(headers, true))) {
      const have = headerReleases(await apt.installedHeaders(platform), platform);
      throw new UsageError(
        `--kernel ${wanted}: apt knows no ${headers}; pick a release apt offers (apt-cache search linux-headers-)` +
          (have.length ? ` or an installed one: ${have.join(', ')}` : ''),
      );
    }
    await step('packages', () => apt.ensureInstalled([...TOOL_PACKAGES, headers]));
    return wanted;
  }
  await step('packages', () => apt.ensureInstalled(TOOL_PACKAGES));
  let installed = headerReleases(await apt.installedHeaders(platform), platform);
  if (installed[0] && isPrepared(installed[0])) return installed[0];
  if (!installed.length) {
    await step('headers', () => apt.ensureInstalled([platform.headersMeta]));
    installed = headerReleases(await apt.installedHeaders(platform), platform);
  }
  for (const r of installed) {
    if (await apt.imagePackage(r)) return r;
  }
  throw new UsageError(
    installed.length
      ? `no kernel image package in apt's sources matches the installed headers (${installed.join(', ')}): ` +
          `run apt-get update, or install the headers of an available release and pass --kernel`
      : `${platform.headersMeta} is installed but no linux-headers-*${platform.flavour} package is`,
  );
}

async function prepareKernel(ctx: SetupContext, labDir: string, wanted: string): Promise<LabManifestEntry> {
  const { runner, log, apt, steps, step } = ctx;
  const manifest = readManifest(labDir);
  const prepared = (r: string) => {
    const k = manifest.kernels[r];
    return k && missingFiles(k).length === 0 ? k : undefined;
  };
  const release = await chooseRelease(ctx, wanted, (r) => prepared(r) !== undefined);
  const known = prepared(release);
  if (known) {
    if (known.initFingerprint === initFingerprint()) {
      log(`kernel ${known.release} already prepared in ${labDir}`);
      return known;
    }
    await step('initramfs', () => buildInitramfs(runner, join(labDir, known.release, 'image'), known.release, known.initrd));
    const updated = { ...known, initFingerprint: initFingerprint(), steps: [...known.steps, ...steps] };
    writeManifestEntry(labDir, updated);
    return updated;
  }
  const buildDir = `/lib/modules/${release}/build`;
  if (!existsSync(join(buildDir, 'Makefile'))) {
    throw new UsageError(`headers of ${release} are installed but ${buildDir}/Makefile is missing; reinstall linux-headers-${release}`);
  }

  const kernelDir = join(labDir, release);
  const imageDir = join(kernelDir, 'image');
  const image = await step('download image', async () => {
    rmSync(kernelDir, { recursive: true, force: true });
    mkdirSync(kernelDir, { recursive: true });
    return apt.downloadImage(release, await apt.installedVersion(`linux-headers-${release}`), kernelDir);
  });
  await step('extract image', async () => {
    for (const deb of image.debs) {
      await mustRun(runner, 'dpkg-deb', ['-x', deb, imageDir]);
      rmSync(deb, { force: true });
    }
  });
  const modulesDir = join(imageDir, 'lib/modules', release);
  const bzImage = join(imageDir, 'boot', `vmlinuz-${release}`);
  if (!existsSync(bzImage) || !existsSync(modulesDir)) {
    throw new UsageError(`${image.name} ${image.version} has no boot/vmlinuz-${release} or lib/modules/${release}`);
  }

  const vmlinux = join(kernelDir, 'vmlinux');
  const bootMode = await step('extract vmlinux', async () => {
    const config = join(imageDir, 'boot', `config-${release}`);
    const pvh = existsSync(config) && /^CONFIG_PVH=y$/m.test(readFileSync(config, 'utf8'));
    if (pvh && (await extractVmlinux(runner, bzImage, vmlinux))) return 'pvh' as const;
    log(`no PVH-bootable vmlinux in ${bzImage}: the VM boots the compressed image (slower)`);
    renameSync(bzImage, vmlinux);
    return 'bzimage' as const;
  });

  const initrd = join(kernelDir, 'initrd.cpio');
  await step('initramfs', () => buildInitramfs(runner, imageDir, release, initrd));

  const entry: LabManifestEntry = {
    release,
    vmlinux,
    initrd,
    buildDir,
    modulesDir,
    imagePackage: image.name,
    imageVersion: image.version,
    bootMode,
    initFingerprint: initFingerprint(),
    preparedAt: new Date().toISOString(),
    steps,
  };
  writeManifestEntry(labDir, entry);
  return entry;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Kernel releases of the installed headers packages, newest first. */
function headerReleases(installed: string[], platform: Platform): string[] {
  return installed
    .filter((p) => p.endsWith(platform.flavour) && /^linux-headers-\d/.test(p))
    .map((p) => p.slice('linux-headers-'.length))
    .sort((a, b) => compareReleases(b, a));
}

function writeManifestEntry(labDir: string, entry: LabManifestEntry): void {
  // Re-read: another setup may have added a release meanwhile.
  const manifest = readManifest(labDir);
  manifest.kernels[entry.release] = entry;
  const file = manifestPath(labDir);
  writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

async function buildInitramfs(runner: CommandRunner, imageDir: string, release: string, initrd: string): Promise<void> {
  await mustRun(runner, 'depmod', ['-b', imageDir, release]);
  const modules = await moduleLoadOrder(runner, imageDir, release);
  const entries = await initramfsEntries(runner, modules);
  writeFileSync(`${initrd}.${process.pid}.tmp`, cpioArchive(entries));
  renameSync(`${initrd}.${process.pid}.tmp`, initrd);
}

/** `insmod` paths in load order for GUEST_MODULES (modprobe resolves one module per call). */
async function moduleLoadOrder(runner: CommandRunner, imageDir: string, release: string): Promise<string[]> {
  const order: string[] = [];
  for (const name of GUEST_MODULES) {
    const out = await mustRun(runner, 'modprobe', ['-d', imageDir, '-S', release, '--show-depends', name]);
    for (const line of out.split('\n')) {
      const m = /^insmod (\S+)/.exec(line.trim());
      if (m && !order.includes(m[1])) order.push(m[1]);
    }
  }
  return order;
}

const DECOMPRESS: Record<string, string> = { '.xz': 'xz', '.zst': 'zstd', '.gz': 'gzip' };

async function initramfsEntries(runner: CommandRunner, modules: string[]): Promise<CpioEntry[]> {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((f) => existsSync(f));
  if (!busybox) throw new UsageError('busybox-static is installed but /bin/busybox is missing');
  const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'mnt', 'newroot', 'lib', 'lib/modules'].map((path) => ({
    kind: 'dir',
    path,
  }));
  entries.push(
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
  );
  const inGuest: string[] = [];
  for (const [i, path] of modules.entries()) {
    const ext = Object.keys(DECOMPRESS).find((e) => path.endsWith(`.ko${e}`));
    const base = path
      .split('/')
      .at(-1)!
      .replace(/\.ko(\.\w+)?$/, '');
    const data = ext ? Buffer.from(await mustRun(runner, 'sh', ['-c', `${DECOMPRESS[ext]} -dc "$1" | base64 -w0`, 'sh', path]), 'base64') : readFileSync(path);
    const target = `lib/modules/${String(i).padStart(2, '0')}-${base}.ko`;
    entries.push({ kind: 'file', path: target, data });
    inGuest.push(`/${target}`);
  }
  entries.push({ kind: 'file', path: 'init', data: Buffer.from(initScript(inGuest)), mode: 0o755 });
  return entries;
}

/** Debian: linux-image-<r> (signed) or -unsigned; Ubuntu: linux-image-<r> or linux-image-unsigned-<r>. */
function imagePackageNames(release: string): string[] {
  return [`linux-image-${release}`, `linux-image-${release}-unsigned`, `linux-image-unsigned-${release}`];
}

/** apt and dpkg, as the setup uses them. */
class Apt {
  private updated = false;
  constructor(
    private readonly runner: CommandRunner,
    private readonly log: (line: string) => void,
  ) {}

  async missing(packages: string[]): Promise<string[]> {
    const r = await this.runner.run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Status}\n', ...packages]);
    const installed = new Set(
      r.stdout
        .split('\n')
        .filter((l) => l.endsWith(' installed'))
        .map((l) => l.split(' ')[0]),
    );
    return packages.filter((p) => !installed.has(p));
  }

  async update(): Promise<void> {
    if (this.updated) return;
    this.log('apt-get update');
    await mustRun(this.runner, 'apt-get', ['update', '-q'], { env: APT_ENV });
    this.updated = true;
  }

  async ensureInstalled(packages: string[]): Promise<void> {
    const missing = await this.missing(packages);
    if (!missing.length) return;
    await this.update();
    this.log(`apt-get install ${missing.join(' ')}`);
    await mustRun(this.runner, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env: APT_ENV });
  }

  async installedHeaders(platform: Platform): Promise<string[]> {
    const r = await this.runner.run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Status}\n', `linux-headers-*${platform.flavour}`]);
    return r.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]);
  }

  /** The candidate version apt would download, or '' when apt does not know the package. */
  async candidate(pkg: string, updateIfUnknown = false): Promise<string> {
    const v = await this.policy(pkg);
    if (v || !updateIfUnknown || this.updated) return v;
    await this.update();
    return this.policy(pkg);
  }

  private async policy(pkg: string): Promise<string> {
    const r = await this.runner.run('apt-cache', ['policy', pkg]);
    const v = /Candidate:\s*(\S+)/.exec(r.stdout)?.[1] ?? '';
    return v === '(none)' ? '' : v;
  }

  async installedVersion(pkg: string): Promise<string> {
    return (await mustRun(this.runner, 'dpkg-query', ['-W', '-f', '${Version}', pkg])).trim();
  }

  /**
   * Downloads the image of `release` (and, on Ubuntu, its modules packages) into `dir`, at the
   * version of the installed headers so that modules built against them load in the guest.
   */
  async downloadImage(release: string, version: string, dir: string): Promise<{ name: string; version: string; debs: string[] }> {
    const found = await this.imagePackage(release);
    if (!found) {
      throw new UsageError(
        `no kernel image package for ${release} in apt's sources (tried ${imagePackageNames(release).join(', ')}); choose another release with --kernel`,
      );
    }
    const wanted = [found.name];
    for (const p of [`linux-modules-${release}`, `linux-modules-extra-${release}`]) {
      if (await this.candidate(p)) wanted.push(p);
    }
    // Downloading into a root-owned directory: apt's sandbox user could not write there.
    const r = await this.runner.run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...wanted.map((p) => `${p}=${version}`)], {
      env: APT_ENV,
      cwd: dir,
    });
    if (r.code !== 0) {
      throw new UsageError(
        `cannot download ${wanted.join(', ')} at version ${version}, the version of the installed linux-headers-${release} ` +
          `(apt offers ${found.version}): upgrade the headers (apt-get install linux-headers-${release}) or choose another release with --kernel ` +
          `(${r.stderr.trim().split('\n').at(-1)})`,
      );
    }
    found.version = version;
    const debs = readdirSync(dir)
      .filter((f) => f.endsWith('.deb'))
      .map((f) => join(dir, f));
    return { ...found, debs };
  }

  /** The image package of `release` apt can download (updating the lists once if none is known). */
  async imagePackage(release: string): Promise<{ name: string; version: string } | null> {
    const found = await this.firstKnown(imagePackageNames(release));
    if (found || this.updated) return found;
    await this.update();
    return this.firstKnown(imagePackageNames(release));
  }

  private async firstKnown(names: string[]): Promise<{ name: string; version: string } | null> {
    for (const name of names) {
      const version = await this.candidate(name);
      if (version) return { name, version };
    }
    return null;
  }
}
