// The runner's own apt and dpkg, for the lab's tools (QEMU, busybox, ...): which packages are
// missing, and installing them. Kernels come from Debian's archive instead (debian-archive.ts).
import { type CommandRunner, mustRun } from './command.js';

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

/** The runner's own apt and dpkg: they install the lab's tools only, never a kernel package. */
export class Apt {
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

  async ensureInstalled(packages: string[]): Promise<void> {
    const missing = await this.missing(packages);
    if (!missing.length) return;
    if (!this.updated) {
      this.log('apt-get update');
      await mustRun(this.runner, 'apt-get', ['update', '-q'], { env: APT_ENV });
      this.updated = true;
    }
    this.log(`apt-get install ${missing.join(' ')}`);
    await mustRun(this.runner, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env: APT_ENV });
  }
}
