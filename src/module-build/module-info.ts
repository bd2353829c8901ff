// What a built .ko says about itself: the kernel it was built for, its symbols (for
// symbolizing call sites) and source lines.
import { relative } from 'node:path';
import { describeExit, runCommand } from '../process/run.js';
import { UsageError } from '../errors.js';
import type { AnalysisResult } from '../core/model.js';
import type { ModuleMap, ModuleOffset } from '../core/module-map.js';
import { applyLocations, moduleCallers } from '../core/locations.js';

/** `modinfo -F vermagic`, e.g. `6.1.0-56-amd64 SMP preempt mod_unload modversions`. */
export async function readVermagic(ko: string): Promise<string> {
  const r = await runCommand('modinfo', ['-F', 'vermagic', ko]);
  if (r.code !== 0) throw new UsageError(`modinfo ${ko} failed (${describeExit(r)}): ${r.stderr.trim() || 'is it a kernel module?'}`);
  const v = r.stdout.trim();
  if (v === '') throw new UsageError(`${ko} has no vermagic: it is not a kernel module built with Kbuild`);
  return v;
}

/** The kernel release a vermagic names (its first word). */
export function vermagicRelease(vermagic: string): string {
  return vermagic.trim().split(/\s+/)[0] ?? '';
}

/**
 * Null when the module fits the kernel release, else a one-line message saying what to do.
 * Pure: `release` is `uname -r` of the target kernel.
 */
export function vermagicMismatch(ko: string, vermagic: string, release: string): string | null {
  const built = vermagicRelease(vermagic);
  if (built === release.trim()) return null;
  return (
    `${ko} was built for kernel ${built} but the target kernel is ${release.trim()}: ` +
    `build it against /lib/modules/${release.trim()}/build (package linux-headers-${release.trim()}), ` +
    `or run on a kernel whose headers were used`
  );
}

/** `nm -f sysv --defined-only` text of the .ko: symbols with their section, for ModuleMap. */
export async function moduleSymbols(ko: string): Promise<string> {
  const r = await runCommand('nm', ['-f', 'sysv', '--defined-only', ko]);
  if (r.code !== 0) throw new UsageError(`nm ${ko} failed (${describeExit(r)}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** `objdump -dr` of the .ko: each function's code with its relocations, for changed-code.ts. */
export async function disassemble(ko: string): Promise<string> {
  const r = await runCommand('objdump', ['-dr', '--no-show-raw-insn', ko]);
  if (r.code !== 0) throw new UsageError(`objdump -dr ${ko} failed (${describeExit(r)}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The kernel functions the .ko calls (`nm -u`): what track: auto reads the allocator families from. */
export async function moduleImports(ko: string): Promise<string[]> {
  const r = await runCommand('nm', ['-u', ko]);
  if (r.code !== 0) throw new UsageError(`nm -u ${ko} failed (${describeExit(r)}): ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((n) => n !== '');
}

interface SourceLine {
  section: string;
  offset: number;
  function: string;
  /** `file.c:123`, or '' when the .ko has no debug info for it. */
  location: string;
}

/**
 * file:line of section-relative offsets in the .ko (`addr2line -j SECTION`). Offsets are
 * those of the call instruction (a return address minus 1). Inlined frames: the innermost outside a header.
 */
export async function addr2line(ko: string, section: string, offsets: number[]): Promise<SourceLine[]> {
  if (offsets.length === 0) return [];
  const r = await runCommand('addr2line', ['-e', ko, '-a', '-f', '-i', '-j', section, ...offsets.map((o) => `0x${o.toString(16)}`)]);
  if (r.code !== 0) throw new UsageError(`addr2line on ${ko} failed (${describeExit(r)}): ${r.stderr.trim()}`);
  return parseAddr2line(r.stdout, section, offsets);
}

/**
 * Of an inline chain (innermost first, function then file:line per frame), the frame that is the
 * call site in the module's code: the innermost one outside a header (`kmalloc` and `kzalloc`
 * come from slab.h; `kni_ioctl_create` inlined into `kni_ioctl` is the line that allocates).
 */
function callSiteFrame(chain: string[]): string[] {
  for (let i = 0; i + 1 < chain.length; i += 2) {
    const file = chain[i + 1]
      .trim()
      .replace(/\s+\(discriminator \d+\)$/, '')
      .replace(/:\d+$/, '');
    if (!file.endsWith('.h') && !file.startsWith('??')) return chain.slice(i, i + 2);
  }
  return chain.slice(-2);
}

/**
 * Pure: `addr2line -f` prints two lines per address: function, then file:line. With `-a -i`
 * each address comes first, then the chain of inlined frames, innermost first (`kmalloc` in
 * slab.h, `kzalloc`, then the module's function): callSiteFrame picks the call site.
 */
function parseAddr2line(text: string, section: string, offsets: number[]): SourceLine[] {
  let lines = text.split('\n');
  const groups: string[][] = [];
  if (/^0x[0-9a-f]+$/.test(lines[0]?.trim() ?? '')) {
    for (const l of lines) {
      if (/^0x[0-9a-f]+$/.test(l.trim())) groups.push([]);
      else if (l.trim() !== '') groups[groups.length - 1].push(l);
    }
    lines = groups.flatMap(callSiteFrame);
  }
  return offsets.map((offset, i) => {
    const fn = (lines[2 * i] ?? '??').trim();
    const where = (lines[2 * i + 1] ?? '??:0').trim().replace(/\s+\(discriminator \d+\)$/, '');
    const unknown = where.startsWith('??');
    return { section, offset, function: fn === '??' ? '' : fn, location: unknown ? '' : where };
  });
}

/**
 * `file:line` of each call site, keyed by its caller, from the .ko's debug info; offsets without
 * line information are left out. Files under `root` (the source tree) are given relative to it.
 */
export async function lookUpLines(ko: string, offsets: ModuleOffset[], root: string): Promise<Map<string, string>> {
  const bySection = new Map<string, ModuleOffset[]>();
  for (const o of offsets) bySection.set(o.section, [...(bySection.get(o.section) ?? []), o]);
  const found = new Map<string, string>();
  for (const [section, list] of bySection) {
    const lines = await addr2line(
      ko,
      section,
      list.map((o) => o.offset),
    );
    lines.forEach((l, i) => {
      if (l.location === '') return;
      const colon = l.location.lastIndexOf(':');
      const file = l.location.slice(0, colon);
      const rel = file.startsWith('/') ? relative(root, file) : file;
      found.set(list[i].caller, `${rel.startsWith('..') ? file : rel}${l.location.slice(colon)}`);
    });
  }
  return found;
}

/** Fills the file:line of every module call site (and outstanding object) of an analysis. */
export async function locateCallers(result: AnalysisResult, map: ModuleMap, ko: string, root: string): Promise<void> {
  const offsets = map.offsets(moduleCallers(result));
  if (offsets.length > 0) applyLocations(result, await lookUpLines(ko, offsets, root));
}
