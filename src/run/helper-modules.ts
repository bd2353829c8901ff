// The kernel modules the action ships to help a run (canary/, failsite/, apiwatch/): found beside dist/ in
// the bundle or at the repository root from src/run/, built once per process and kernel.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModule } from '../module-build/build-module.js';

export interface HelperModule {
  /** Its folder in the action: `failsite`. */
  folder: string;
  /** The module's name: `ab_failsite`. */
  name: string;
  /** What it is for, in an error: `the error-path helper`. */
  what: string;
}

/** The helper's folder: beside dist/ in the bundle, at the repository root from src/run/. */
export function findHelperDir(helper: HelperModule, from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, helper.folder);
    if (existsSync(join(candidate, `${helper.name}.c`))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`${helper.what} is missing: no ${helper.folder}/${helper.name}.c above ${from} (the action's checkout is incomplete)`);
}

const built = new Map<string, Promise<string>>();

/** The helper built for a kernel (once per kernel build dir and process); its .ko path. */
export function buildHelperModule(helper: HelperModule, kernelBuildDir: string, onTempDir?: (dir: string) => void): Promise<string> {
  const key = `${helper.name}\0${kernelBuildDir}`;
  let p = built.get(key);
  if (!p) {
    p = (async () => {
      const work = mkdtempSync(join(tmpdir(), `alloc-balance-${helper.folder}-`));
      onTempDir?.(work);
      // Built once per process and kernel, used by every side: removed when the process ends.
      process.once('exit', () => rmSync(work, { recursive: true, force: true }));
      cpSync(findHelperDir(helper), work, { recursive: true });
      const r = await buildModule({ moduleDir: work, kernelBuildDir });
      const ko = r.modules.find((m) => m.name === helper.name);
      if (!r.ok || !ko) throw new Error(`${helper.what} did not build: ${r.reason ?? 'no .ko'}\n${r.excerpt}`);
      return ko.path;
    })();
    built.set(key, p);
    p.catch(() => built.delete(key));
  }
  return p;
}
