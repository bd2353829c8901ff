// The TypeScript files under a folder, for tests that read the sources themselves.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every .ts file under dir, at any depth, as full paths. */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
