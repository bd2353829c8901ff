// target: vm needs a prepared kernel lab. Use one that is ready; otherwise set it up as root
// (`lab plan`, restore the Actions cache under the planned release's key, `lab setup`) and save
// what a set-up built. Every effect goes through LabProvisionIo.
import { labCliArgv, rootNeeded } from '../lab/lab-cli.js';
import { sudoRefusal, type Identity } from '../process/as-root.js';
import type { CommandResult } from '../process/run.js';
import type { DirCache } from '../github/dir-cache.js';
import { labCacheKey } from '../lab/lab-cache-key.js';
import { chooseQemu, type QemuVersion, readLabQemu } from '../lab/lab-qemu.js';
import type { LabInspection, LabManifestEntry } from '../lab/lab-kernel.js';
import { UsageError } from '../errors.js';
import { stopwatch } from '../elapsed.js';

/** What the set-up reads of a command's run; `spawnError` ENOENT: not installed. */
export type ExecResult = Pick<CommandResult, 'code' | 'stdout' | 'stderr' | 'spawnError'>;

export interface LabProvisionIo {
  /** Candidates in order (actionLabDirs); a set-up goes into the first. */
  labDirs: string[];
  nodePath: string;
  cliPath: string;
  who: Identity;
  /** initFingerprint() of this version's /init. */
  fingerprint: string;
  inspect(labDir: string, release: string): LabInspection;
  /** Runs argv; each stderr line goes to onLine as it comes. */
  exec(argv: string[], onLine: (line: string) => void): Promise<ExecResult>;
  cache: DirCache;
  log: (line: string) => void;
  warn: (line: string) => void;
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

type LabChoice = { ready: LabManifestEntry; labDir: string } | { setupIn: string; reason: string };

/** The first candidate with a usable kernel whose initramfs is current, else a set-up in the first candidate. */
export function chooseLab(found: { labDir: string; inspection: LabInspection }[], fingerprint: string): LabChoice {
  for (const { labDir, inspection } of found) {
    if ('kernel' in inspection && inspection.kernel.initFingerprint === fingerprint) return { ready: inspection.kernel, labDir };
  }
  const first = found[0];
  const reason =
    'problem' in first.inspection
      ? first.inspection.problem
      : `VM lab kernel ${first.inspection.kernel.release} in ${first.labDir} has an initramfs older than this version of alloc-balance`;
  return { setupIn: first.labDir, reason };
}

export async function provisionLab(release: string, io: LabProvisionIo): Promise<LabManifestEntry> {
  const choice = chooseLab(
    io.labDirs.map((labDir) => ({ labDir, inspection: io.inspect(labDir, release) })),
    io.fingerprint,
  );
  if ('ready' in choice) {
    io.log(`VM lab: kernel ${choice.ready.release} prepared in ${choice.labDir}`);
    return choice.ready;
  }
  const labDir = choice.setupIn;
  return io.group('Kernel lab', async () => {
    io.log(`${choice.reason}; setting it up in ${labDir}`);
    const planned = parseJson<{ release: string }>(await runLabCli(io, 'plan', labDir, release), 'lab plan').release;
    const key = labCacheKey(planned, io.fingerprint);
    let restored = false;
    if (!io.cache.available) io.log('Actions cache: not available here; the lab is set up without it');
    else {
      const restoring = stopwatch();
      restored = await io.cache.restore(labDir, key);
      io.log(restored ? `Actions cache: restored ${key} (${restoring().toFixed(1)} s)` : `Actions cache: no entry ${key}`);
    }
    const entry = parseJson<LabManifestEntry>(await runLabCli(io, 'setup', labDir, planned), 'lab setup');
    if (io.cache.available && !restored) {
      const saving = stopwatch();
      io.log((await io.cache.save(labDir, key)) ? `Actions cache: saved ${key} (${saving().toFixed(1)} s)` : `Actions cache: ${key} not saved`);
    }
    const ready = io.inspect(labDir, entry.release);
    if ('problem' in ready) throw new UsageError(`VM lab set-up finished but ${ready.problem}`);
    return ready.kernel;
  });
}

/**
 * A QEMU of at least `min` for the lab in `labDir`: the runner's, the lab's, or one `lab setup
 * --qemu` takes from Debian's backports (as root, like the kernel).
 */
export async function provisionQemu(labDir: string, min: QemuVersion, system: QemuVersion | null, io: LabProvisionIo): Promise<void> {
  const found = chooseQemu(min, system, readLabQemu(labDir));
  if ('qemu' in found) return;
  await io.group('QEMU for the emulated NICs', async () => {
    io.log(`${found.problem}; taking one from Debian's backports into ${labDir}`);
    await runLabCli(io, 'setup', labDir, '', true);
  });
}

async function runLabCli(io: LabProvisionIo, sub: 'plan' | 'setup', labDir: string, release: string, qemu = false): Promise<string> {
  const argv = labCliArgv(sub, { nodePath: io.nodePath, cliPath: io.cliPath, labDir, release, who: io.who, qemu });
  io.log(`$ ${argv.join(' ')}`);
  const r = await io.exec(argv, io.log);
  if (r.code === 0) return r.stdout;
  const refusal = io.who.uid !== 0 ? sudoRefusal(r) : null;
  if (refusal) throw new UsageError(rootNeeded(io.who, refusal, labDir));
  const last = (r.stderr.trim().split('\n').at(-1) ?? '').replace(/^alloc-balance: /, '');
  throw new UsageError(`VM lab set-up failed (\`lab ${sub}\`, ${r.spawnError ?? `exit ${r.code}`}): ${last || 'no message'}`);
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UsageError(`${what} printed no JSON: ${text.trim().slice(0, 200)}`);
  }
}
