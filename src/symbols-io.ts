// The I/O around symbolizing: `nm` and `addr2line` on the built .ko, section addresses from
// /sys/module/<mod>/sections while the module is loaded. The resolving itself is pure
// (core/module-map.ts).
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import { ModuleMap, normalizeModuleName, type ModuleOffset } from './core/module-map.js';
import type { AnalysisResult } from './core/model.js';
import { applyLocations, moduleCallers } from './core/locations.js';

const run = promisify(execFile);

/** `nm -f sysv --defined-only` of a .ko: symbols with their sections and sizes. */
export async function readNm(koPath: string): Promise<string> {
  const { stdout } = await run('nm', ['-f', 'sysv', '--defined-only', koPath], { maxBuffer: 64 << 20 });
  return stdout;
}

/** Section start addresses of a loaded module (root only: the files read 0 otherwise). */
export async function readSections(module: string, sysDir = '/sys'): Promise<Record<string, string>> {
  const dir = join(sysDir, 'module', normalizeModuleName(module), 'sections');
  const sections: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    const value = (await readFile(join(dir, name), 'utf8')).trim();
    if (/^0x[0-9a-f]+$/i.test(value) && !/^0x0+$/.test(value)) sections[name] = value;
  }
  return sections;
}

export async function moduleMapFromKo(koPath: string, module: string, sections: Record<string, string> = {}): Promise<ModuleMap> {
  return new ModuleMap(module, await readNm(koPath), sections);
}

/** file:line of each offset, from the .ko's debug info; offsets without line info are left out. */
export async function lookUpLines(koPath: string, offsets: ModuleOffset[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const bySection = new Map<string, ModuleOffset[]>();
  for (const o of offsets) bySection.set(o.section, [...(bySection.get(o.section) ?? []), o]);
  for (const [section, list] of bySection) {
    const { stdout } = await run('addr2line', ['-e', koPath, '-j', section, ...list.map((o) => `0x${o.offset.toString(16)}`)], { maxBuffer: 16 << 20 });
    const lines = stdout.split('\n');
    list.forEach((o, k) => {
      const text = (lines[k] ?? '').replace(/\s*\(discriminator \d+\)$/, '').trim();
      if (text === '' || text.startsWith('??')) return;
      const colon = text.lastIndexOf(':');
      const file = text.slice(0, colon);
      const rel = isAbsolute(file) ? relative(dirname(koPath), file) : file;
      found.set(o.caller, `${rel.startsWith('..') ? file : rel}${text.slice(colon)}`);
    });
  }
  return found;
}

/** Looks up and fills the file:line of every in-module call site of an analysis. */
export async function addLocations(result: AnalysisResult, map: ModuleMap, koPath: string): Promise<void> {
  const offsets = map.offsets(moduleCallers(result));
  if (offsets.length === 0) return;
  applyLocations(result, await lookUpLines(koPath, offsets));
}
