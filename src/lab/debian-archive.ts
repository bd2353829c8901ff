// Debian's archive, the source of every lab kernel on any runner: apt run with a private
// configuration (its own sources, lists, cache and an empty dpkg status), so that the runner's apt
// sources and installed packages are never touched. apt verifies each suite's signed Release file
// with debian-archive-keyring and each downloaded .deb against the checksums those files list.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { type CommandRunner, mustRun } from './command.js';
import {
  type ArchiveKernel,
  chooseArchiveKernel,
  compareReleases,
  compilerFromDepends,
  isDebianRelease,
  type KernelSpec,
  releaseLine,
  releaseUpstream,
  specMatches,
} from './kernel-spec.js';

const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** bullseye: 5.10; bookworm: 6.1 (and 6.12 built with gcc 12); bookworm-backports and trixie: 6.12. */
const DEBIAN_SUITES: { uri: string; suite: string }[] = [
  { uri: 'http://deb.debian.org/debian', suite: 'bullseye' },
  { uri: 'http://deb.debian.org/debian-security', suite: 'bullseye-security' },
  { uri: 'http://deb.debian.org/debian', suite: 'bookworm' },
  { uri: 'http://deb.debian.org/debian-security', suite: 'bookworm-security' },
  { uri: 'http://deb.debian.org/debian', suite: 'bookworm-backports' },
  { uri: 'http://deb.debian.org/debian', suite: 'trixie' },
  { uri: 'http://deb.debian.org/debian-security', suite: 'trixie-security' },
];

export function sourcesList(keyring = DEBIAN_KEYRING): string {
  return DEBIAN_SUITES.map((s) => `deb [arch=amd64 signed-by=${keyring}] ${s.uri} ${s.suite} main\n`).join('');
}

/** apt's options for the private configuration under `stateDir`. */
function privateAptOptions(stateDir: string): string[] {
  const o = (k: string, v: string) => ['-o', `${k}=${v}`];
  return [
    ...o('Dir::Etc::SourceList', join(stateDir, 'sources.list')),
    ...o('Dir::Etc::SourceParts', join(stateDir, 'empty')),
    ...o('Dir::Etc::Preferences', join(stateDir, 'empty', 'none')),
    ...o('Dir::Etc::PreferencesParts', join(stateDir, 'empty')),
    ...o('Dir::State::Lists', join(stateDir, 'lists')),
    ...o('Dir::State::Status', join(stateDir, 'status')),
    ...o('Dir::Cache', join(stateDir, 'cache')),
    // Docker images switch apt's binary caches off; without them each apt-cache call re-reads every list.
    ...o('Dir::Cache::pkgcache', 'pkgcache.bin'),
    ...o('Dir::Cache::srcpkgcache', 'srcpkgcache.bin'),
    ...o('APT::Architecture', 'amd64'),
    ...o('APT::Architectures', 'amd64'),
    ...o('Acquire::Languages', 'none'),
    // Downloads go to root-owned lab folders: apt's sandbox user could not write there.
    ...o('APT::Sandbox::User', 'root'),
  ];
}

/** Where the private apt keeps its lists between `lab plan` and `lab setup` (outside the lab: the lab is cached, the lists are not). */
function defaultArchiveStateDir(): string {
  return join(tmpdir(), 'alloc-balance-debian-apt');
}

/** The packages of one kernel: the image, both headers packages and the kbuild tools, all at one version. */
export interface KernelPackages {
  release: string;
  version: string;
  compiler: string;
  image: string;
  headers: string;
  headersCommon: string;
  kbuild: string;
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };

export class DebianArchive {
  private updated = false;
  private readonly options: string[];

  constructor(
    private readonly runner: CommandRunner,
    private readonly log: (line: string) => void,
    private readonly stateDir = defaultArchiveStateDir(),
  ) {
    this.options = privateAptOptions(stateDir);
  }

  /** Fetches the suites' signed indexes into the private lists (once per instance). */
  async update(): Promise<void> {
    if (this.updated) return;
    if (!existsSync(DEBIAN_KEYRING)) {
      throw new UsageError(`${DEBIAN_KEYRING} is missing: install debian-archive-keyring (it verifies the kernels downloaded from Debian's archive)`);
    }
    for (const d of ['lists/partial', 'cache/archives/partial', 'empty']) mkdirSync(join(this.stateDir, d), { recursive: true });
    writeFileSync(join(this.stateDir, 'sources.list'), sourcesList());
    writeFileSync(join(this.stateDir, 'status'), '');
    this.log(`apt-get update (Debian's archive: ${DEBIAN_SUITES.map((s) => s.suite).join(', ')})`);
    const r = await this.runner.run('apt-get', [...this.options, 'update', '-q'], { env: APT_ENV });
    // A suite apt could not verify or reach is left out of the lists; the rest is still usable.
    const problems = r.stderr
      .split('\n')
      .filter((l) => /^(E|W):/.test(l))
      .slice(0, 3);
    if (r.code !== 0 || problems.length) this.log(`apt-get update: ${problems.join(' | ') || `exit ${r.code}`}`);
    if (!readdirSync(join(this.stateDir, 'lists')).some((f) => /_Packages(\.\w+)?$/.test(f))) {
      throw new UsageError(
        `cannot read Debian's archive (apt-get update: ${problems.join(' | ') || `exit ${r.code}`}): the VM lab downloads its kernels from deb.debian.org`,
      );
    }
    this.updated = true;
  }

  /** The kernel to prepare for `spec`, with its packages at one version. */
  async resolve(spec: KernelSpec, hasCompiler: (compiler: string) => boolean): Promise<KernelPackages> {
    await this.update();
    const names = (await mustRun(this.runner, 'apt-cache', [...this.options, 'pkgnames', 'linux-headers-'])).split('\n');
    const releases = names
      .map((n) => n.trim().slice('linux-headers-'.length))
      .filter((r) => isDebianRelease(r) && specMatches(spec, r))
      .sort((a, b) => compareReleases(b, a));
    if (!releases.length) {
      const lines = [
        ...new Set(
          names
            .map((n) => n.trim().slice('linux-headers-'.length))
            .filter(isDebianRelease)
            .map(releaseLine),
        ),
      ].sort();
      throw new UsageError(
        `Debian's archive offers no kernel ${'line' in spec ? `of line ${spec.line}` : spec.release}; it offers the lines ${lines.join(', ')} (name one, or an exact release)`,
      );
    }
    // Only the builds of the newest upstream version need their compiler looked up.
    const builds = releases.filter((r) => releaseUpstream(r) === releaseUpstream(releases[0]));
    const offered: (ArchiveKernel & { depends: string })[] = [];
    for (const release of builds) {
      const show = await mustRun(this.runner, 'apt-cache', [...this.options, 'show', '--no-all-versions', `linux-headers-${release}`]);
      const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(show)?.[1] ?? '';
      offered.push({ release, version: field('Version'), compiler: compilerFromDepends(field('Depends')), depends: field('Depends') });
    }
    const chosen = chooseArchiveKernel(spec, offered, hasCompiler) as (typeof offered)[number];
    const dep = (re: RegExp, what: string) => {
      const m = re.exec(chosen.depends);
      if (!m) throw new UsageError(`linux-headers-${chosen.release} ${chosen.version} names no ${what} package in its Depends (${chosen.depends})`);
      return m[1];
    };
    const image = await this.imagePackage(chosen.release, chosen.version);
    return {
      release: chosen.release,
      version: chosen.version,
      compiler: chosen.compiler,
      image,
      headers: `linux-headers-${chosen.release}`,
      headersCommon: dep(/(linux-headers-[^\s,]+-common)\b/, 'common headers'),
      kbuild: dep(/(linux-kbuild-[^\s,]+)/, 'linux-kbuild'),
    };
  }

  /** The unsigned image when the archive has it at `version` (the same kernel without the Secure Boot signature), else the signed one. */
  private async imagePackage(release: string, version: string): Promise<string> {
    for (const name of [`linux-image-${release}-unsigned`, `linux-image-${release}`]) {
      const r = await this.runner.run('apt-cache', [...this.options, 'show', `${name}=${version}`]);
      if (r.code === 0 && r.stdout.includes(`Version: ${version}`)) return name;
    }
    throw new UsageError(`Debian's archive has linux-headers-${release} ${version} but no linux-image-${release} at that version`);
  }

  /** The version of `pkg` that `suite` offers, or null. */
  async versionIn(pkg: string, suite: string): Promise<string | null> {
    await this.update();
    const r = await this.runner.run('apt-cache', [...this.options, 'show', `${pkg}/${suite}`], { env: APT_ENV });
    return r.code === 0 ? (/^Version: (.*)$/m.exec(r.stdout)?.[1] ?? null) : null;
  }

  /** Downloads `name/suite` packages into `dir` (checked against the signed indexes) and returns the .deb paths. */
  async downloadFrom(suite: string, names: readonly string[], dir: string): Promise<string[]> {
    await this.update();
    mkdirSync(dir, { recursive: true });
    const wanted = names.map((n) => `${n}/${suite}`);
    this.log(`apt-get download ${wanted.join(' ')}`);
    await mustRun(this.runner, 'apt-get', [...this.options, 'download', '-q', ...wanted], { env: APT_ENV, cwd: dir });
    return readdirSync(dir)
      .filter((f) => f.endsWith('.deb'))
      .map((f) => join(dir, f));
  }

  /** Downloads the packages into `dir` (apt checks each against the signed indexes) and returns the .deb paths. */
  async download(k: KernelPackages, dir: string): Promise<string[]> {
    await this.update();
    mkdirSync(dir, { recursive: true });
    const wanted = [k.image, k.headers, k.headersCommon, k.kbuild].map((p) => `${p}=${k.version}`);
    this.log(`apt-get download ${wanted.join(' ')}`);
    await mustRun(this.runner, 'apt-get', [...this.options, 'download', '-q', ...wanted], { env: APT_ENV, cwd: dir });
    return readdirSync(dir)
      .filter((f) => f.endsWith('.deb'))
      .map((f) => join(dir, f));
  }
}
