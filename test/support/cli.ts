// The bundled command line (scripts/build.mjs's cli.js, what dist/cli.js is) run as a process. The
// bundle is built into a folder of its own, never dist/, so that no test races whatever else
// rebuilds dist/; one bundle per state of the sources it is built from, shared by every test file
// (and every run) that runs the command line on those sources.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLES = join(tmpdir(), 'alloc-balance-cli-bundles');
/** Bundles of other states of the sources are removed once unused this long. */
const STALE_MS = 24 * 3600_000;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A hash of everything the bundle is built from: the sources, the build script, the dependencies' versions. */
function sourcesKey(): string {
  const h = createHash('sha256');
  for (const f of [...filesUnder(join(ROOT, 'src')), ...['package.json', 'package-lock.json', 'scripts/build.mjs'].map((f) => join(ROOT, f))]) {
    h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

let built = '';

/** The path of cli.js bundled from the current sources (built on first use). */
export function cliBundle(): string {
  if (built && existsSync(built)) return built;
  const key = sourcesKey();
  const dir = join(BUNDLES, key);
  if (!existsSync(join(dir, 'cli.js'))) {
    mkdirSync(BUNDLES, { recursive: true });
    const tmp = `${dir}.${process.pid}-${Date.now()}`;
    execFileSync(process.execPath, ['scripts/build.mjs', '--outdir', tmp], { cwd: ROOT, stdio: 'pipe' });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another test file built the same bundle first
    }
    for (const other of readdirSync(BUNDLES)) {
      const path = join(BUNDLES, other);
      if (other !== key && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    }
  }
  built = join(dir, 'cli.js');
  return built;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `alloc-balance ARGS` (from the repository's root unless `cwd`). A command that wrongly went
 * ahead (a lab set-up, a VM) is cut short after `timeoutMs` rather than left running.
 */
export function runCli(args: string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliBundle(), ...args], {
    encoding: 'utf8',
    input: opts.input,
    cwd: opts.cwd ?? ROOT,
    timeout: opts.timeoutMs ?? 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
