// actions/upload-artifact@v4 and actions/download-artifact@v4 over folders: an artifact is a
// folder of the emulated run. Their path semantics are upload-artifact's and download-artifact's:
//   upload: each line of `path` is a glob relative to the workspace (@actions/glob, as the action
//     uses it); hidden files are left out unless `include-hidden-files: true`; the files keep
//     their paths relative to the least common ancestor of the patterns' search paths (a single
//     file given by its name: its folder); a name already uploaded in this run is refused;
//   download: with `name`, that artifact's files into `path`; otherwise every artifact whose name
//     matches `pattern` (all without it), each into `path/<artifact name>/`, or all into `path`
//     with `merge-multiple: true`; `run-id` (with `github-token`) reads another run's artifacts.
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import * as glob from '@actions/glob';

const UPLOAD_INPUTS = ['name', 'path', 'if-no-files-found', 'retention-days', 'compression-level', 'overwrite', 'include-hidden-files'];
const DOWNLOAD_INPUTS = ['name', 'pattern', 'path', 'merge-multiple', 'run-id', 'github-token', 'repository'];

function checkInputs(action: string, given: Record<string, string>, known: string[]) {
  for (const k of Object.keys(given)) if (!known.includes(k)) throw new Error(`${action}: the emulation does not know the input ${k}`);
}

/** Least common ancestor of absolute paths. */
function commonAncestor(paths: string[]): string {
  const split = paths.map((p) => p.split(sep));
  const first = split[0];
  let n = 0;
  while (n < first.length && split.every((s) => s[n] === first[n])) n++;
  return first.slice(0, n).join(sep) || sep;
}

/** Runs `f` without the ::debug:: workflow commands @actions/glob prints to this process's stdout. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).startsWith('::debug::') ? true : (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest)) as typeof process.stdout.write;
  try {
    return await f();
  } finally {
    process.stdout.write = write;
  }
}

export async function uploadArtifact(workspace: string, runArtifacts: string, given: Record<string, string>): Promise<string> {
  checkInputs('actions/upload-artifact', given, UPLOAD_INPUTS);
  const name = given.name || 'artifact';
  if (!given.path) throw new Error('actions/upload-artifact: Input required and not supplied: path');
  if (/["':<>|*?\r\n\\/]/.test(name)) throw new Error(`actions/upload-artifact: the name "${name}" holds a character artifacts may not`);
  const dest = join(runArtifacts, name);
  if (existsSync(dest) && given.overwrite !== 'true') {
    throw new Error(`actions/upload-artifact: an artifact with the name ${name} was already created for this workflow run`);
  }
  const patterns = given.path
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => (l.startsWith('!') ? `!${resolve(workspace, l.slice(1))}` : isAbsolute(l) ? l : resolve(workspace, l)))
    .join('\n');
  const { globber, matched } = await quietly(async () => {
    const g = await glob.create(patterns, { implicitDescendants: true, matchDirectories: false, excludeHiddenFiles: given['include-hidden-files'] !== 'true' });
    return { globber: g, matched: await g.glob() };
  });
  const files = matched.filter((f) => statSync(f).isFile());
  if (files.length === 0) {
    const how = given['if-no-files-found'] ?? 'warn';
    if (how === 'error') throw new Error(`actions/upload-artifact: No files were found with the provided path: ${given.path}. No artifacts will be uploaded.`);
    return `No files were found with the provided path: ${given.path}. No artifacts will be uploaded.`;
  }
  const searchPaths = globber.getSearchPaths();
  const root = searchPaths.length > 1 ? commonAncestor(searchPaths) : files.length === 1 && searchPaths[0] === files[0] ? dirname(files[0]) : searchPaths[0];
  for (const f of files) {
    const rel = relative(root, f);
    mkdirSync(dirname(join(dest, rel)), { recursive: true });
    cpSync(f, join(dest, rel));
  }
  return `Artifact ${name} has been successfully uploaded: ${files.length} files`;
}

function nameMatches(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

export interface DownloadSource {
  /** The artifacts folder of the run the step belongs to. */
  current: string;
  /** The artifacts folder of another emulated run, by its id. */
  ofRun(id: string): string;
}

export function downloadArtifact(workspace: string, source: DownloadSource, given: Record<string, string>): string {
  checkInputs('actions/download-artifact', given, DOWNLOAD_INPUTS);
  if (given['run-id'] && !given['github-token']) throw new Error('actions/download-artifact: run-id needs github-token');
  const from = given['run-id'] ? source.ofRun(given['run-id']) : source.current;
  const path = resolve(workspace, given.path ?? '.');
  const available = existsSync(from) ? readdirSync(from).sort() : [];
  if (given.name) {
    if (!available.includes(given.name)) throw new Error(`actions/download-artifact: Artifact not found: ${given.name}`);
    cpSync(join(from, given.name), path, { recursive: true });
    return `Artifact ${given.name} downloaded to ${path}`;
  }
  const chosen = available.filter((n) => !given.pattern || nameMatches(given.pattern, n));
  for (const n of chosen) cpSync(join(from, n), given['merge-multiple'] === 'true' ? path : join(path, n), { recursive: true });
  return `Downloaded ${chosen.length} artifacts (${chosen.join(', ')}) to ${basename(path)}`;
}
