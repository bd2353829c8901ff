// The kernel modules the action ships to help a run (kmod/canary, kmod/failsite, kmod/apiwatch): found in
// the package's kmod/ (beside dist/ in the bundle, at the repository root from src/run/), built by
// the run that needs them.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../bundle-paths.js';
import { buildModule } from '../module-build/build-module.js';

/** The package's folder of kernel modules: one folder per helper and the Makefile fragment they share. */
export const KMOD_DIR = 'kmod';

export interface HelperModule {
  /** Its folder under kmod/: `failsite`. */
  folder: string;
  /** The module's name: `ab_failsite`. */
  name: string;
  /** What it is for, in an error: `the error-path helper`. */
  what: string;
}

/**
 * The helper's folder, kmod/<folder> of the package the running code belongs to. A copy of that
 * folder alone builds with Kbuild: its Makefile reads the shared fragment only outside Kbuild.
 */
export function findHelperDir(helper: HelperModule, from: string = dirname(fileURLToPath(import.meta.url))): string {
  const wanted = `${KMOD_DIR}/${helper.folder}/${helper.name}.c`;
  let root: string;
  try {
    root = packageRoot(from);
  } catch {
    throw new Error(`${helper.what} is missing: no ${wanted} above ${from} (the action's checkout is incomplete)`);
  }
  const dir = join(root, KMOD_DIR, helper.folder);
  if (!existsSync(join(dir, `${helper.name}.c`))) throw new Error(`${helper.what} is missing: no ${wanted} in ${root} (the action's checkout is incomplete)`);
  return dir;
}

export interface HelperBuildsOptions {
  /** Told each build's temporary folder as it is made (the post step removes it if the run dies). */
  onTempDir?: (dir: string) => void;
  /** The module build (tests fake it). */
  build?: (req: { moduleDir: string; kernelBuildDir: string }) => Promise<Awaited<ReturnType<typeof buildModule>>>;
}

/**
 * The helpers one run builds, each once per kernel and shared by its sides: each build is a copy of
 * the helper's folder in a temporary folder that belongs to the run, removed by dispose() when the
 * run ends (withHelperBuilds), whether it succeeded, failed or was cancelled.
 */
export class HelperBuilds {
  private readonly built = new Map<string, Promise<string>>();
  private readonly dirs: string[] = [];
  private readonly started: Promise<unknown>[] = [];
  private disposed = false;

  constructor(private readonly options: HelperBuildsOptions = {}) {}

  /** The helper built for a kernel (once per kernel build dir); its .ko path, valid until dispose(). */
  module(helper: HelperModule, kernelBuildDir: string): Promise<string> {
    if (this.disposed) return Promise.reject(new Error(`${helper.what} was asked for after its run ended`));
    const key = `${helper.name}\0${kernelBuildDir}`;
    let p = this.built.get(key);
    if (!p) {
      const work = mkdtempSync(join(tmpdir(), `alloc-balance-${helper.folder}-`));
      this.dirs.push(work);
      this.options.onTempDir?.(work);
      p = (async () => {
        cpSync(findHelperDir(helper), work, { recursive: true });
        const r = await (this.options.build ?? buildModule)({ moduleDir: work, kernelBuildDir });
        const ko = r.modules.find((m) => m.name === helper.name);
        if (!r.ok || !ko) throw new Error(`${helper.what} did not build: ${r.reason ?? 'no .ko'}\n${r.excerpt}`);
        return ko.path;
      })();
      this.built.set(key, p);
      this.started.push(p);
      // A failed build is not kept: the next side asks again (its folder is removed with the rest).
      p.catch(() => this.built.delete(key));
    }
    return p;
  }

  /** Removes every build's folder, once the builds still running have ended. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.allSettled(this.started);
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    this.built.clear();
  }
}

/**
 * Runs fn with a run's helper builds: `shared` (HelperBuilds a caller's run owns) as they are, or
 * else builds of its own that are removed when fn ends, however it ends.
 */
export async function withHelperBuilds<T>(shared: HelperBuilds | HelperBuildsOptions, fn: (helpers: HelperBuilds) => Promise<T>): Promise<T> {
  if (shared instanceof HelperBuilds) return fn(shared);
  const helpers = new HelperBuilds(shared);
  try {
    return await fn(helpers);
  } finally {
    await helpers.dispose();
  }
}
