// What a user names as the VM's kernel (`vm-kernel`, `lab setup --kernel`): a line of Debian's
// kernels (`5.10`, `6.1`, `6.12`: the newest of that line in Debian's archive) or an exact
// release (`5.10.0-46-amd64`, `6.12.118+deb12-amd64`). Pure.

/** Orders kernel releases like `6.1.0-9-amd64` < `6.1.0-56-amd64` (numeric runs compared as numbers). */
export function compareReleases(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The line prepared when no kernel is named. */
export const DEFAULT_KERNEL_LINE = '6.1';

export type KernelSpec = { line: string } | { release: string };

const LINE = /^\d+\.\d+$/;
/** Debian's generic amd64 flavour: `5.10.0-46-amd64`, `6.1.0-57-amd64`, `6.12.118+deb12-amd64`, `6.12.115+deb13.1-amd64`. */
const RELEASE = /^(\d+\.\d+)\.\d+(?:-\d+|\+deb\d+(?:\.\d+)?)-amd64$/;

export const KERNEL_SPEC_HINT = 'a Debian kernel line (5.10, 6.1, 6.12) or an exact release (like 6.1.0-57-amd64 or 6.12.118+deb12-amd64)';

/** `text` as a spec ('' is the default line), or null when it is neither a line nor a release. */
export function parseKernelSpec(text: string): KernelSpec | null {
  const t = text.trim();
  if (t === '') return { line: DEFAULT_KERNEL_LINE };
  if (LINE.test(t)) return { line: t };
  if (RELEASE.test(t)) return { release: t };
  return null;
}

/** `6.12` for `6.12.118+deb12-amd64`; '' for a name that is no Debian amd64 release. */
export function releaseLine(release: string): string {
  return RELEASE.exec(release)?.[1] ?? '';
}

export function isDebianRelease(name: string): boolean {
  return RELEASE.test(name);
}

/** The upstream version and ABI a release is a build of: `6.12.118` for `6.12.118+deb13-amd64`, `5.10.0-46` for `5.10.0-46-amd64`. */
export function releaseUpstream(release: string): string {
  return release.replace(/-amd64$/, '').replace(/\+deb\d+(\.\d+)?$/, '');
}

/** Does `release` satisfy `spec`? */
export function specMatches(spec: KernelSpec, release: string): boolean {
  return 'line' in spec ? releaseLine(release) === spec.line : release === spec.release;
}

/** A kernel Debian's archive offers: its release, the version of its packages and the compiler it was built with. */
export interface ArchiveKernel {
  release: string;
  version: string;
  /** `gcc-12`: the compiler named by the headers' dependencies ('' when none is named). */
  compiler: string;
}

/**
 * The kernel to prepare for `spec` among `offered`. A line takes its newest upstream version; of
 * that version's builds (trixie's `+deb13` and bookworm's `+deb12` of one 6.12.y) the newest whose
 * compiler this machine has, since Kbuild passes the kernel's compiler flags to it (a gcc-14 build's
 * `-fmin-function-alignment` fails under gcc 12). When no build's compiler is here, the newest build
 * (the headers then fall back to the system gcc: 5.10's gcc-10 modules build with gcc 12).
 */
export function chooseArchiveKernel(spec: KernelSpec, offered: ArchiveKernel[], hasCompiler: (compiler: string) => boolean): ArchiveKernel | null {
  const matching = offered.filter((k) => specMatches(spec, k.release)).sort((a, b) => compareReleases(b.release, a.release));
  if (!matching.length) return null;
  const newest = releaseUpstream(matching[0].release);
  const builds = matching.filter((k) => releaseUpstream(k.release) === newest);
  return builds.find((k) => k.compiler === '' || hasCompiler(k.compiler)) ?? builds[0];
}

/** The compiler named in a headers package's Depends: `gcc-14`, or `gcc-10` for `linux-compiler-gcc-10-x86`. */
export function compilerFromDepends(depends: string): string {
  const m = /(?:^|[,|]\s*)(?:linux-compiler-)?(gcc-\d+)(?:-x86)?(?:\s|,|$)/.exec(depends);
  return m?.[1] ?? '';
}
