// `lab setup`: installs QEMU, busybox and the other tools with the runner's apt, downloads a
// kernel's image, headers and kbuild tools from Debian's archive and extracts them into the lab
// (no kernel package is installed, so the same code runs on Debian, Ubuntu or any x86-64 runner
// with apt), extracts a PVH-bootable vmlinux and builds the lab's initramfs.
// Idempotent: a kernel already in the manifest with its files present is returned at once.
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.js';
import { Apt } from './apt.js';
import { type CommandRunner, mustRun, spawnRunner } from './command.js';
import { type CpioEntry, cpioArchive } from './cpio.js';
import { initFingerprint, initScript } from './guest-scripts.js';
import { defaultLabDir, type LabManifestEntry, type LabStep, manifestPath, missingFiles, readManifest } from './lab-kernel.js';
import { DebianArchive, type KernelPackages } from './debian-archive.js';
import { checkKbuildTools, prepareHeadersTree } from './lab-headers.js';
import { compareReleases, KERNEL_SPEC_HINT, type KernelSpec, parseKernelSpec, specMatches } from './kernel-spec.js';
import { detectPlatform, type Platform, TOOL_PACKAGES } from './platform.js';
import { extractVmlinux } from './vmlinux.js';
import { type LabQemuManifest, setupLabQemu } from './lab-qemu.js';
import { stopwatch } from '../elapsed.js';

interface SetupOptions {
  /** A Debian kernel line (`5.10`, `6.1`, `6.12`: the newest the archive offers) or an exact release; empty: DEFAULT_KERNEL_LINE. */
  kernel?: string;
  labDir?: string;
  runner?: CommandRunner;
  log?: (line: string) => void;
  /** For tests of the refusal paths. */
  platform?: Platform;
  /** Hands the lab directory to this user when done (a set-up run through sudo for a runner user). */
  owner?: { uid: number; gid: number };
  /** The private apt's lists and cache (default: under the temporary folder, shared by `lab plan` and `lab setup`). */
  archiveStateDir?: string;
  /** Whether this machine has a compiler (default: on PATH); for tests of the choice. */
  hasCompiler?: (compiler: string) => boolean;
}

/** Modules the initramfs loads (with their dependencies) to reach the host root and the out share. */
const GUEST_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

type StepFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

interface SetupContext {
  runner: CommandRunner;
  log: (line: string) => void;
  apt: Apt;
  archive: DebianArchive;
  hasCompiler: (compiler: string) => boolean;
  steps: LabStep[];
  step: StepFn;
}

function setupContext(opts: SetupOptions): SetupContext {
  const runner = opts.runner ?? spawnRunner;
  const log = opts.log ?? (() => {});
  // Refuses a non-root user, another architecture or a machine without apt before anything runs.
  opts.platform ?? detectPlatform();
  const steps: LabStep[] = [];
  const step: StepFn = async (name, fn) => {
    const elapsed = stopwatch();
    const value = await fn();
    const seconds = elapsed();
    steps.push({ name, seconds });
    log(`${name}: ${seconds} s`);
    return value;
  };
  const archive = new DebianArchive(runner, log, opts.archiveStateDir);
  return { runner, log, apt: new Apt(runner, log), archive, hasCompiler: opts.hasCompiler ?? onPath, steps, step };
}

function readSpec(text: string): KernelSpec {
  const spec = parseKernelSpec(text);
  if (!spec) throw new UsageError(`kernel "${text}" is not ${KERNEL_SPEC_HINT}`);
  return spec;
}

/**
 * Installs the lab's tools (QEMU, busybox, ...; never a kernel package) and names the release
 * `setupLab` would prepare from Debian's archive, without preparing it: the action keys its cache
 * by that release.
 */
export async function planLab(opts: SetupOptions = {}): Promise<string> {
  const ctx = setupContext(opts);
  const spec = readSpec(opts.kernel ?? '');
  await ctx.step('packages', () => ctx.apt.ensureInstalled(TOOL_PACKAGES));
  return (await ctx.step('archive', () => ctx.archive.resolve(spec, ctx.hasCompiler))).release;
}

export async function setupLab(opts: SetupOptions = {}): Promise<LabManifestEntry> {
  const ctx = setupContext(opts);
  const labDir = opts.labDir ?? defaultLabDir();
  const entry = await prepareKernel(ctx, labDir, readSpec(opts.kernel ?? ''));
  // Set up through sudo for a runner user, who must read, cache and restore the lab afterwards.
  if (opts.owner) await mustRun(ctx.runner, 'chown', ['-R', `${opts.owner.uid}:${opts.owner.gid}`, labDir]);
  return entry;
}

/** `lab setup --qemu`: a QEMU new enough for every emulated NIC, from Debian's backports into the lab. */
export async function setupQemu(opts: SetupOptions = {}): Promise<LabQemuManifest> {
  const ctx = setupContext(opts);
  const labDir = opts.labDir ?? defaultLabDir();
  const manifest = await ctx.step('qemu', () => setupLabQemu(labDir, ctx.archive, ctx.runner, ctx.log));
  if (opts.owner) await mustRun(ctx.runner, 'chown', ['-R', `${opts.owner.uid}:${opts.owner.gid}`, join(labDir, 'qemu')]);
  return manifest;
}

/** Is `program` on this machine's PATH? */
function onPath(program: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d !== '' && existsSync(join(d, program)));
}

/**
 * A kernel of `spec` the lab holds already (a line: its newest prepared release, without asking the
 * archive; name the exact release to move to a newer one), else the archive's choice, downloaded.
 */
async function prepareKernel(ctx: SetupContext, labDir: string, spec: KernelSpec): Promise<LabManifestEntry> {
  const { runner, log, steps, step } = ctx;
  const manifest = readManifest(labDir);
  const prepared = Object.values(manifest.kernels)
    .filter((k) => specMatches(spec, k.release) && missingFiles(k).length === 0)
    .sort((a, b) => compareReleases(b.release, a.release));
  let known: LabManifestEntry | undefined = prepared[0];
  let chosen: KernelPackages | undefined;
  if (!known) {
    await step('packages', () => ctx.apt.ensureInstalled(TOOL_PACKAGES));
    chosen = await step('archive', () => ctx.archive.resolve(spec, ctx.hasCompiler));
    known = prepared.find((k) => k.release === chosen?.release);
  }
  if (known) {
    if (known.initFingerprint === initFingerprint()) {
      log(`kernel ${known.release} already prepared in ${labDir}`);
      return known;
    }
    const k = known;
    await step('initramfs', () => buildInitramfs(runner, join(labDir, k.release, 'image'), k.release, k.initrd));
    const updated = { ...k, initFingerprint: initFingerprint(), steps: [...k.steps, ...steps] };
    writeManifestEntry(labDir, updated);
    return updated;
  }
  const pkgs = chosen as KernelPackages;
  const release = pkgs.release;
  log(`kernel ${release} (${pkgs.image} ${pkgs.version}${pkgs.compiler ? `, built with ${pkgs.compiler}` : ''}) from Debian's archive`);

  const kernelDir = join(labDir, release);
  const imageDir = join(kernelDir, 'image');
  const headersRoot = join(kernelDir, 'headers');
  const debs = await step('download', async () => {
    rmSync(kernelDir, { recursive: true, force: true });
    return ctx.archive.download(pkgs, join(kernelDir, 'debs'));
  });
  await step('extract', async () => {
    for (const deb of debs) {
      await mustRun(runner, 'dpkg-deb', ['-x', deb, basename(deb).startsWith('linux-image-') ? imageDir : headersRoot]);
    }
    rmSync(join(kernelDir, 'debs'), { recursive: true, force: true });
  });
  const buildDir = await step('headers', async () => {
    const dir = prepareHeadersTree(headersRoot, release);
    await checkKbuildTools(runner, dir, release);
    return dir;
  });
  // Trixie's image keeps its modules under usr/lib (merged /usr); depmod and modprobe -d look in lib/.
  if (!existsSync(join(imageDir, 'lib')) && existsSync(join(imageDir, 'usr/lib/modules'))) symlinkSync('usr/lib', join(imageDir, 'lib'));
  const modulesDir = join(imageDir, 'lib/modules', release);
  const bzImage = join(imageDir, 'boot', `vmlinuz-${release}`);
  if (!existsSync(bzImage) || !existsSync(modulesDir)) {
    throw new UsageError(`${pkgs.image} ${pkgs.version} has no boot/vmlinuz-${release} or lib/modules/${release}`);
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
    buildTree: headersRoot,
    modulesDir: realpathSync(modulesDir),
    imagePackage: pkgs.image,
    imageVersion: pkgs.version,
    bootMode,
    initFingerprint: initFingerprint(),
    preparedAt: new Date().toISOString(),
    steps,
  };
  writeManifestEntry(labDir, entry);
  return entry;
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
