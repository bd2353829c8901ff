// Which QEMU runs the lab VM: the runner's own when it is new enough for what the VM needs (an
// emulated igb NIC needs QEMU 8.0), else one taken from Debian's backports into the lab, like the
// kernels: downloaded with the private apt (checked against the signed indexes), extracted, never
// installed. The extracted QEMU runs on the runner's libraries (bookworm's or newer).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { type CommandRunner, mustRun } from './command.js';
import type { DebianArchive } from './debian-archive.js';

export type QemuVersion = readonly [number, number];

export interface QemuChoice {
  binary: string;
  /** `-L` folders (firmware, option ROMs); empty: QEMU's built-in ones. */
  dataDirs: string[];
  /** QEMU_MODULE_DIR for an extracted QEMU (its own modules, not the runner's). */
  env: Record<string, string>;
  version: string;
  source: 'runner' | 'lab';
}

export interface LabQemuManifest {
  version: string;
  binary: string;
  dataDirs: string[];
  moduleDir: string;
  package: string;
}

const SYSTEM_QEMU = 'qemu-system-x86_64';
/** The suite the lab takes a newer QEMU from (built for bookworm's libraries). */
const QEMU_SUITE = 'bookworm-backports';
const QEMU_PACKAGES = ['qemu-system-x86', 'qemu-system-common', 'qemu-system-data', 'seabios'];

/** `QEMU emulator version 10.0.2 (Debian ...)` -> [10, 0]. */
export function parseQemuVersion(text: string): QemuVersion | null {
  const m = /QEMU emulator version (\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

export function atLeast(v: QemuVersion, min: QemuVersion): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

const versionText = (v: QemuVersion) => `${v[0]}.${v[1]}`;

function labQemuDir(labDir: string): string {
  return join(labDir, 'qemu');
}

export function readLabQemu(labDir: string): LabQemuManifest | null {
  const path = join(labQemuDir(labDir), 'manifest.json');
  if (!existsSync(path)) return null;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as LabQemuManifest;
    return existsSync(m.binary) ? m : null;
  } catch {
    return null;
  }
}

/**
 * The QEMU to run: the runner's when it is at least `min`, else the lab's when it is; null with
 * the reason otherwise. Pure over what was found.
 */
export function chooseQemu(min: QemuVersion, system: QemuVersion | null, lab: LabQemuManifest | null): { qemu: QemuChoice } | { problem: string } {
  if (system && atLeast(system, min)) return { qemu: { binary: SYSTEM_QEMU, dataDirs: [], env: {}, version: versionText(system), source: 'runner' } };
  const labVersion = lab ? parseQemuVersion(`QEMU emulator version ${lab.version}`) : null;
  if (lab && labVersion && atLeast(labVersion, min)) {
    return { qemu: { binary: lab.binary, dataDirs: lab.dataDirs, env: { QEMU_MODULE_DIR: lab.moduleDir }, version: lab.version, source: 'lab' } };
  }
  const has = system ? `this runner's QEMU is ${versionText(system)}` : `this runner has no ${SYSTEM_QEMU}`;
  return { problem: `QEMU ${versionText(min)} or newer is needed and ${has}` };
}

export async function systemQemuVersion(runner: CommandRunner): Promise<QemuVersion | null> {
  try {
    const r = await runner.run(SYSTEM_QEMU, ['--version']);
    return r.code === 0 ? parseQemuVersion(r.stdout) : null;
  } catch {
    return null;
  }
}

/** Downloads QEMU from Debian's backports into the lab (once) and returns its manifest. */
export async function setupLabQemu(labDir: string, archive: DebianArchive, runner: CommandRunner, log: (line: string) => void): Promise<LabQemuManifest> {
  const dir = labQemuDir(labDir);
  const version = await archive.versionIn('qemu-system-x86', QEMU_SUITE);
  if (!version) throw new UsageError(`Debian's archive offers no qemu-system-x86 in ${QEMU_SUITE}: the lab cannot take a newer QEMU from it`);
  const known = readLabQemu(labDir);
  if (known && known.package === version) {
    log(`QEMU ${known.version} already in ${dir}`);
    return known;
  }
  log(`QEMU ${version} from Debian's ${QEMU_SUITE}`);
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  const debs = await archive.downloadFrom(QEMU_SUITE, QEMU_PACKAGES, join(staging, 'debs'));
  const root = join(staging, 'root');
  mkdirSync(root, { recursive: true });
  for (const deb of debs) await mustRun(runner, 'dpkg-deb', ['-x', deb, root]);
  rmSync(join(staging, 'debs'), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  const final = join(dir, 'root');
  const binary = join(final, 'usr/bin', SYSTEM_QEMU);
  const seen = parseQemuVersion(await mustRun(runner, binary, ['--version']));
  if (!seen) throw new UsageError(`the QEMU extracted into ${dir} does not run on this machine (${binary} --version)`);
  const manifest: LabQemuManifest = {
    version: `${seen[0]}.${seen[1]}`,
    binary,
    dataDirs: [join(final, 'usr/share/qemu'), join(final, 'usr/share/seabios')],
    moduleDir: join(final, 'usr/lib/x86_64-linux-gnu/qemu'),
    package: version,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
