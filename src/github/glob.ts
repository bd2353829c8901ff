// A small glob for the `reports` input: `*` and `?` within one path segment, `**` across any
// number of segments. A directory stands for every .json file below it.
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

const MAGIC = /[*?[]/;

function segmentRegex(segment: string): RegExp {
  let out = '';
  for (const ch of segment) {
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function entries(dir: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    const list = await readdir(dir, { withFileTypes: true });
    return list.map((e) => ({ name: e.name, dir: e.isDirectory() })).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

async function walk(dir: string, parts: string[], out: Set<string>): Promise<void> {
  if (parts.length === 0) {
    out.add(dir);
    return;
  }
  const [first, ...rest] = parts;
  if (first === '**') {
    await walk(dir, rest, out);
    for (const e of await entries(dir)) if (e.dir && !e.name.startsWith('.')) await walk(join(dir, e.name), parts, out);
    return;
  }
  if (!MAGIC.test(first)) {
    const next = join(dir, first);
    if (await exists(next)) await walk(next, rest, out);
    return;
  }
  const re = segmentRegex(first);
  for (const e of await entries(dir)) {
    if (e.name.startsWith('.') && !first.startsWith('.')) continue;
    if (re.test(e.name) && (rest.length === 0 || e.dir)) await walk(join(dir, e.name), rest, out);
  }
}

/** Files matching `pattern` (relative to `cwd` unless absolute), sorted; several patterns may be given one per line or comma-separated. */
export async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const out = new Set<string>();
  for (const raw of pattern
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const abs = isAbsolute(raw) ? raw : resolve(cwd, raw);
    if (!MAGIC.test(raw)) {
      if (await isDir(abs)) await walk(abs, ['**', '*.json'], out);
      else if (await exists(abs)) out.add(abs);
      continue;
    }
    const root = abs.startsWith(sep) ? sep : '';
    const parts = abs.split(sep).filter((s) => s !== '');
    const firstMagic = parts.findIndex((p) => MAGIC.test(p));
    const base = root + parts.slice(0, firstMagic).join(sep);
    const found = new Set<string>();
    await walk(base, parts.slice(firstMagic), found);
    for (const f of found) if (!(await isDir(f))) out.add(f);
  }
  return [...out].sort((a, b) => relative(cwd, a).localeCompare(relative(cwd, b)));
}
