// The action's VM lab with real effects: this process's user, the bundled CLI run as root through
// a child process, the lab directories of this runner, the Actions cache.
import { spawn } from 'node:child_process';
import { currentIdentity } from '../lab/as-root.js';
import { initFingerprint } from '../lab/guest-scripts.js';
import { actionsDirCache } from '../github/dir-cache.js';
import { actionLabDirs } from '../lab/lab-dirs.js';
import { inspectLab, type LabManifestEntry } from '../lab/lab-kernel.js';
import { provisionLab, type ExecResult, type LabProvisionIo } from './provision-lab.js';

export interface ActionLabOptions {
  env: NodeJS.ProcessEnv;
  nodePath: string;
  cliPath: string;
  log: (line: string) => void;
  warn: (line: string) => void;
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

export function prepareActionLab(release: string, opts: ActionLabOptions): Promise<LabManifestEntry> {
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
  return provisionLab(release, io);
}

function execLines(argv: string[], onLine: (line: string) => void): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  return new Promise((resolveExec) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.on('error', (e: NodeJS.ErrnoException) => resolveExec({ code: null, stdout, stderr, spawnError: e.code ?? e.message }));
    child.on('close', (code) => {
      if (partial) onLine(partial);
      resolveExec({ code, stdout, stderr });
    });
  });
}
