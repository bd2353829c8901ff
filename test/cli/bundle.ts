// The bundled command line, built by scripts/build.mjs into a private folder: tests run the
// same bundle as dist/cli.js without racing anything else that rebuilds dist/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export function buildCli(): { cli: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'alloc-balance-bundle-'));
  execFileSync(process.execPath, ['scripts/build.mjs', '--outdir', dir], { cwd: ROOT, stdio: 'pipe' });
  return { cli: join(dir, 'cli.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
