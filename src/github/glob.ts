// The `reports` input as GitHub's own glob (@actions/glob) reads it: `*`, `?`, `[...]`, `**`,
// `!` to exclude, hidden folders included; one pattern a line (or comma-separated). Relative
// patterns are taken from the workspace, and a directory stands for every .json file below it.
import { statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as glob from '@actions/glob';

const MAGIC = /[*?[]/;

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Files matching `pattern` (relative to `cwd` unless absolute), sorted. */
export async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const patterns = pattern
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((raw) => {
      const negate = raw.startsWith('!');
      const body = negate ? raw.slice(1) : raw;
      const abs = isAbsolute(body) ? body : resolve(cwd, body);
      const full = !MAGIC.test(body) && isDir(abs) ? join(abs, '**', '*.json') : abs;
      return negate ? `!${full}` : full;
    });
  if (patterns.length === 0) return [];
  const globber = await glob.create(patterns.join('\n'), { matchDirectories: false, implicitDescendants: false });
  const files = [...new Set(await globber.glob())];
  return files.sort((a, b) => relative(cwd, a).localeCompare(relative(cwd, b)));
}
