// Where the action's own files are: the package root (package.json named alloc-balance) above the
// running code, whether that is dist/index.js as GitHub runs it or src/*.ts run from source (tests,
// @github/local-action). dist/cli.js, kmod/ and demo/ are found from there.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'alloc-balance';

/** The package root above `from` (default: the folder of the running code). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === NAME) return dir;
      } catch {
        // not ours: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`no package.json of ${NAME} above ${from}: the action's checkout is incomplete`);
}

/**
 * The bundled command line that runs the kernel side (as root, or inside the VM): the cli.js beside
 * the running bundle, or the package's dist/cli.js when the code runs from source.
 */
export function cliPath(from: string = dirname(fileURLToPath(import.meta.url))): string {
  const beside = join(from, 'cli.js');
  return existsSync(beside) ? beside : join(packageRoot(from), 'dist', 'cli.js');
}
