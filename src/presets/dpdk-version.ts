// DPDK release numbers (YY.MM[.patch]) and the releases where KNI moved or went away.

export interface DpdkVersion {
  year: number;
  month: number;
  patch: number;
  /** As written in the tree, e.g. `22.07.0` or `23.11.0-rc1`. */
  text: string;
}

/** Last release with examples/kni. */
export const KNI_EXAMPLE_UNTIL = '22.07';
/** First release without KNI at all. */
export const KNI_REMOVED_IN = '23.11';

const VERSION_RE = /^(\d{2})\.(\d{2})(?:\.(\d+))?/;

/** Parses `22.07.0`, `23.11.0-rc1`, `18.02`; null when the text is not a DPDK release number. */
export function parseDpdkVersion(text: string): DpdkVersion | null {
  const trimmed = text.trim();
  const m = VERSION_RE.exec(trimmed);
  if (!m) return null;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return null;
  return { year: Number(m[1]), month, patch: m[3] === undefined ? 0 : Number(m[3]), text: trimmed };
}

/** Negative when a < b, 0 when equal (release numbers only, pre-release suffixes ignored). */
export function compareDpdkVersions(a: DpdkVersion, b: DpdkVersion): number {
  return a.year - b.year || a.month - b.month || a.patch - b.patch;
}

export function versionAtLeast(v: DpdkVersion, release: string): boolean {
  const r = parseDpdkVersion(release);
  if (!r) throw new Error(`not a DPDK release: ${release}`);
  return compareDpdkVersions(v, r) >= 0;
}

/** The version in `project('DPDK', 'C', version: '18.02.0', ...)` of older meson.build files. */
export function versionFromMesonBuild(text: string): string | null {
  const project = /project\s*\(\s*'DPDK'[\s\S]*?\)/i.exec(text);
  if (!project) return null;
  const v = /version\s*:\s*'([^']+)'/.exec(project[0]);
  return v ? v[1] : null;
}

/** The version from rte_version.h's RTE_VER_YEAR / RTE_VER_MONTH / RTE_VER_MINOR (make-era trees). */
export function versionFromRteVersionHeader(text: string): string | null {
  const num = (name: string): number | null => {
    const m = new RegExp(`#define\\s+${name}\\s+(\\d+)`).exec(text);
    return m ? Number(m[1]) : null;
  };
  const year = num('RTE_VER_YEAR');
  const month = num('RTE_VER_MONTH');
  if (year === null || month === null) return null;
  const minor = num('RTE_VER_MINOR') ?? 0;
  return `${String(year).padStart(2, '0')}.${String(month).padStart(2, '0')}.${minor}`;
}
