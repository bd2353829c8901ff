// A git repository whose history holds the kni_like fixture module in given variants, one
// commit each: what the demo and the end-to-end tests compare, base against PR.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitAs } from './git-as.js';
import { failureLine, runSync } from '../process/run-sync.js';
import { lastLines } from '../process/tail.js';

/**
 * fixed: balanced; leaky: lad_dev never freed (at igb_like_probe); moved: lad_dev freed but net_dev
 * never (the leak moves to kni_like_ioctl_create at the same rate); broken: does not compile;
 * oops / warn: oopses on load / WARNs on release by default.
 */
export type FixtureVariant = 'fixed' | 'leaky' | 'moved' | 'broken' | 'oops' | 'warn';

const NET_DEV_FREE = '\tfree_netdev(kdev->net_dev);\n}\n';

function replaceOnce(text: string, from: string, to: string, what: string): string {
  if (!text.includes(from)) throw new Error(`kni_like.c no longer holds ${what}`);
  return text.replace(from, to);
}

/** The two lines the fix adds to kni_like_dev_remove(): the leaky variant lacks them. */
const FIX_LINES = '\tif (kdev->lad_dev)\n\t\tfree_netdev(kdev->lad_dev);\n';

export function fixtureSource(fixtureDir: string, variant: FixtureVariant): string {
  const fixed = readFileSync(join(fixtureDir, 'kni_like.c'), 'utf8');
  if (!fixed.includes(FIX_LINES)) throw new Error(`${fixtureDir}/kni_like.c no longer holds the lines the leaky variant removes`);
  switch (variant) {
    case 'fixed':
      return fixed;
    case 'leaky':
      return fixed.replace(FIX_LINES, '');
    case 'moved':
      return replaceOnce(fixed, NET_DEV_FREE, '}\n', 'the free_netdev of net_dev');
    case 'oops':
      return replaceOnce(fixed, 'static bool oops_on_load;', 'static bool oops_on_load = true;', 'oops_on_load');
    case 'warn':
      return replaceOnce(fixed, 'static bool warn_on_release;', 'static bool warn_on_release = true;', 'warn_on_release');
    case 'broken':
      return fixed.replace('static int __init kni_like_init(void)\n{', 'static int __init kni_like_init(void)\n{\n\tundeclared_thing = 1 +;');
  }
}

function git(repo: string, args: string[]): string {
  return gitAs('kni_like', repo, args);
}

export interface FixtureRepo {
  dir: string;
  /** One SHA per variant, in the order given. */
  shas: string[];
  /** The workload program, built once outside the repository. */
  app: string;
}

/** Creates the repository in `dir` (empty or missing) with one commit per variant. */
export function createFixtureRepo(fixtureDir: string, dir: string, variants: FixtureVariant[], appDir = join(dir, '..', 'app')): FixtureRepo {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  copyFileSync(join(fixtureDir, 'Makefile'), join(dir, 'Makefile'));
  copyFileSync(join(fixtureDir, 'kni_like_ioctl.h'), join(dir, 'kni_like_ioctl.h'));
  writeFileSync(join(dir, '.gitignore'), '*.o\n*.ko\n*.mod\n*.mod.c\n.*.cmd\nModule.symvers\nmodules.order\n');
  const shas: string[] = [];
  for (const v of variants) {
    writeFileSync(join(dir, 'kni_like.c'), fixtureSource(fixtureDir, v));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '--allow-empty', '-m', `kni_like: ${v}`]);
    shas.push(git(dir, ['rev-parse', 'HEAD']));
  }
  return { dir, shas, app: buildFixtureApp(fixtureDir, appDir) };
}

/** Builds the fixture's workload program (kni_like_app) into appDir; returns its path. */
export function buildFixtureApp(fixtureDir: string, appDir: string): string {
  mkdirSync(appDir, { recursive: true });
  const app = join(appDir, 'kni_like_app');
  const cc = runSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-I', fixtureDir, '-o', app, join(fixtureDir, 'app', 'kni_like_app.c')]);
  if (!cc.ok) throw new Error(`gcc could not build the demo's exerciser: ${lastLines(cc.stderr, 5) || failureLine(cc)}`);
  return app;
}
