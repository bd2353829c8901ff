import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the running bundle (dist/ for the action). */
export function bundleDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/** The bundled command line beside the running bundle: what runs the kernel side. */
export function cliPath(): string {
  return join(bundleDir(), 'cli.js');
}
