// A git repository of demo/leak-shapes with one commit per build variant (the -D flags of its
// Makefile's SHAPE line): what the accuracy benchmark and the shape tests compare, base against PR.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitAs } from './git-as.js';

/** The workload: hold the device open until killed (release() runs when the file closes). */
export const SHAPES_WORKLOAD = 'exec 3<>/dev/leak_shapes && echo ready && exec sleep 600';

function git(dir: string, args: string[]): string {
  return gitAs('leak_shapes', dir, args);
}

/** Creates the repository in `dir` with a commit per variant, in order; returns their SHAs. */
export function createShapesRepo(shapesDir: string, dir: string, variants: string[]): string[] {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  copyFileSync(join(shapesDir, 'leak_shapes.c'), join(dir, 'leak_shapes.c'));
  writeFileSync(join(dir, '.gitignore'), '*.o\n*.ko\n*.mod\n*.mod.c\n.*.cmd\nModule.symvers\nmodules.order\n');
  const makefile = readFileSync(join(shapesDir, 'Makefile'), 'utf8');
  if (!/^SHAPE \?=.*$/m.test(makefile)) throw new Error(`${shapesDir}/Makefile has no "SHAPE ?=" line`);
  return variants.map((flags) => {
    writeFileSync(join(dir, 'Makefile'), makefile.replace(/^SHAPE \?=.*$/m, `SHAPE ?= ${flags}`));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '--allow-empty', '-m', `leak_shapes: ${flags || 'plain'}`]);
    return git(dir, ['rev-parse', 'HEAD']);
  });
}
