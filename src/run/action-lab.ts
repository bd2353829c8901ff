// The action's VM lab with real effects: this process's user, the bundled CLI run as root through
// a child process, the lab directories of this runner, the Actions cache.
import { currentIdentity } from '../process/as-root.js';
import { runCommand } from '../process/run.js';
import { lineSplitter } from '../process/tail.js';
import { initFingerprint } from '../lab/guest-scripts.js';
import { actionsDirCache } from '../github/dir-cache.js';
import { actionLabDirs } from '../lab/lab-dirs.js';
import { inspectLab, labDirOf, type LabManifestEntry } from '../lab/lab-kernel.js';
import { type QemuVersion, systemQemuVersion } from '../lab/lab-qemu.js';
import { spawnRunner } from '../lab/command.js';
import { provisionLab, provisionQemu, type ExecResult, type LabProvisionIo } from './provision-lab.js';

interface ActionLabOptions {
  env: NodeJS.ProcessEnv;
  nodePath: string;
  cliPath: string;
  log: (line: string) => void;
  warn: (line: string) => void;
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

export async function prepareActionLab(release: string, opts: ActionLabOptions, qemu?: QemuVersion): Promise<LabManifestEntry> {
  const io: LabProvisionIo = {
    labDirs: actionLabDirs(opts.env),
    nodePath: opts.nodePath,
    cliPath: opts.cliPath,
    who: currentIdentity(),
    fingerprint: initFingerprint(),
    inspect: (labDir, release) => inspectLab(release, labDir),
    exec: execLines,
    cache: actionsDirCache(),
    log: opts.log,
    warn: opts.warn,
    group: opts.group,
  };
  const kernel = await provisionLab(release, io);
  if (qemu) await provisionQemu(labDirOf(kernel), qemu, await systemQemuVersion(spawnRunner), io);
  return kernel;
}

/** Runs argv; each line of its stderr (the set-up's progress) goes to onLine as it comes. */
async function execLines(argv: string[], onLine: (line: string) => void): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  const lines = lineSplitter(onLine);
  const r = await runCommand(cmd, args, { onOutput: (text, stream) => stream === 'stderr' && lines.push(text) });
  lines.flush();
  return r;
}
