// The repository the documented workflows run on: the kni_like demo module at the paths the docs
// name. docs/workflows.md builds the module at the root (module-dir `.`) and runs
// `./tests/workload.sh`; the README's minimal workflow builds `driver/` and runs
// `../tools/exercise-driver 2` from there. Two commits on main's history: the base (balanced) and the PR
// head (lad_dev never freed, 2 netdevs a cycle with 2 ports), plus GitHub's refs/pull/<n>/merge
// test-merge commits for the pull requests the events name.
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtureApp, fixtureSource } from '../../../src/demo/fixture-repo.js';
import { git } from '../../e2e/action-harness.js';

export const KNI_LIKE = join(import.meta.dirname, '../../../demo/kni-like');

export interface DocumentedFixture {
  dir: string;
  base: string;
  head: string;
  /** The workload program (built outside the repository, as a runner would have it installed). */
  app: string;
}

function writeModule(dir: string, variant: 'fixed' | 'leaky') {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kni_like.c'), fixtureSource(KNI_LIKE, variant));
  copyFileSync(join(KNI_LIKE, 'kni_like_ioctl.h'), join(dir, 'kni_like_ioctl.h'));
  copyFileSync(join(KNI_LIKE, 'Makefile'), join(dir, 'Makefile'));
}

function script(file: string, body: string) {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}`);
  chmodSync(file, 0o755);
}

export function createDocumentedFixture(work: string): DocumentedFixture {
  const dir = join(work, 'kni-driver');
  const app = buildFixtureApp(KNI_LIKE, join(work, 'app'));
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  // actions/checkout and the action fetch single commits by SHA.
  git(dir, ['config', 'uploadpack.allowAnySHA1InWant', 'true']);
  writeFileSync(join(dir, '.gitignore'), '*.o\n*.ko\n*.mod\n*.mod.c\n.*.cmd\nModule.symvers\nmodules.order\n');
  script(join(dir, 'tests/workload.sh'), `# Two ports through /dev/kni_like, held until the stop signal.\nexec '${app}' -n 2\n`);
  script(
    join(dir, 'tools/exercise-driver'),
    `# exercise-driver PORTS: that many ports through /dev/kni_like, held until the stop signal.\nexec '${app}' -n "$1"\n`,
  );
  const commit = (variant: 'fixed' | 'leaky', message: string) => {
    writeModule(dir, variant);
    writeModule(join(dir, 'driver'), variant);
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', message]);
    return git(dir, ['rev-parse', 'HEAD']);
  };
  const base = commit('fixed', 'kni_like: the driver, balanced');
  const head = commit('leaky', 'kni_like: release the ports in one place');
  git(dir, ['branch', '-f', 'fix-lad-dev-leak', head]);
  git(dir, ['reset', '-q', '--hard', base]);
  for (const pr of [42, 57]) {
    const tree = git(dir, ['rev-parse', `${head}^{tree}`]);
    const merge = git(dir, ['commit-tree', tree, '-p', base, '-p', head, '-m', `Merge ${head} into ${base}`]);
    git(dir, ['update-ref', `refs/pull/${pr}/head`, head]);
    git(dir, ['update-ref', `refs/pull/${pr}/merge`, merge]);
  }
  return { dir, base, head, app };
}

/** GitHub's test-merge commit of a pull request in the fixture. */
export function mergeCommit(f: DocumentedFixture, pr: number): string {
  return git(f.dir, ['rev-parse', `refs/pull/${pr}/merge`]);
}
