// The project's own TypeScript modules in a script: the exports named are bundled with esbuild (the
// same code the action runs) and imported. The bundle lies inside the checkout while it is made, as
// the action's lies beside kmod/ (the helper modules are found from it), and goes once imported.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** `exports`: lines such as `export { findLabKernel } from './src/lab/lab-kernel.ts';`. */
export async function importSource(exports) {
  const libDir = mkdtempSync(join(ROOT, '.bundle-'));
  const lib = join(libDir, 'lib.mjs');
  try {
    await build({
      stdin: { contents: exports, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: lib,
      logLevel: 'warning',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    return await import(lib);
  } finally {
    rmSync(libDir, { recursive: true, force: true });
  }
}
