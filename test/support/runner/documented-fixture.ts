// The repositories the documented workflows run on, each with two commits on main's history: the
// base (balanced) and the PR head (a netdev never freed), plus GitHub's refs/pull/<n>/merge
// test-merge commits for the pull requests the events name.
//   - kni-driver: the kni_like demo module at the paths the docs name. docs/workflows.md builds
//     the module at the root (module-dir `.`) and runs `./tests/workload.sh`; the README's minimal
//     workflow builds `driver/` and runs `../tools/exercise-driver 2` from there. Both start the
//     demo's workload program, committed built in tools/ (a VM sees the trees, not the host's other
//     folders). The PR never frees lad_dev: 2 netdevs a cycle with 2 ports.
//   - a DPDK tree for `preset: dpdk-kni`: the PR drops free_netdev from rte_kni's release path.
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtureApp, fixtureSource } from '../../../src/demo/fixture-repo.js';
import { git } from '../action-harness.js';

export const KNI_LIKE = join(import.meta.dirname, '../../../demo/kni-like');
export const SYNTHETIC_DPDK = join(import.meta.dirname, '../../fixtures/dpdk-tree');

export interface DocumentedFixture {
  dir: string;
  base: string;
  head: string;
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

/**
 * A repository in `dir` whose main branch holds `writeBase`'s tree, with `writeHead`'s tree one
 * commit on, on the PR's branch: the PR head. GitHub's refs/pull/<n>/head and /merge for the pull
 * requests of the test events (42 from a branch, 57 from a fork).
 */
function twoCommitRepo(dir: string, writeBase: () => void, writeHead: () => void, messages: [string, string]): DocumentedFixture {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  // actions/checkout and the action fetch single commits by SHA.
  git(dir, ['config', 'uploadpack.allowAnySHA1InWant', 'true']);
  const commit = (write: () => void, message: string) => {
    write();
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', message]);
    return git(dir, ['rev-parse', 'HEAD']);
  };
  const base = commit(writeBase, messages[0]);
  const head = commit(writeHead, messages[1]);
  git(dir, ['branch', '-f', 'fix-lad-dev-leak', head]);
  git(dir, ['reset', '-q', '--hard', base]);
  for (const pr of [42, 57]) {
    const tree = git(dir, ['rev-parse', `${head}^{tree}`]);
    const merge = git(dir, ['commit-tree', tree, '-p', base, '-p', head, '-m', `Merge ${head} into ${base}`]);
    git(dir, ['update-ref', `refs/pull/${pr}/head`, head]);
    git(dir, ['update-ref', `refs/pull/${pr}/merge`, merge]);
  }
  return { dir, base, head };
}

export function createDocumentedFixture(work: string): DocumentedFixture {
  const dir = join(work, 'kni-driver');
  const write = (variant: 'fixed' | 'leaky') => () => {
    writeModule(dir, variant);
    writeModule(join(dir, 'driver'), variant);
  };
  mkdirSync(join(dir, 'tools'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '*.o\n*.ko\n*.mod\n*.mod.c\n.*.cmd\nModule.symvers\nmodules.order\n');
  copyFileSync(buildFixtureApp(KNI_LIKE, join(work, 'app')), join(dir, 'tools/kni_like_app'));
  script(join(dir, 'tests/workload.sh'), '# Two ports through /dev/kni_like, held until the stop signal.\nexec "$(dirname "$0")/../tools/kni_like_app" -n 2\n');
  script(
    join(dir, 'tools/exercise-driver'),
    `# exercise-driver PORTS: that many ports through /dev/kni_like, held until the stop signal.\nexec "$(dirname "$0")/kni_like_app" -n "$1"\n`,
  );
  return twoCommitRepo(dir, write('fixed'), write('leaky'), ['kni_like: the driver, balanced', 'kni_like: release the ports in one place']);
}

/** The release path of a DPDK tree's rte_kni (kni_misc.c) and what the PR leaves of it: the netdev never freed. */
export interface KniRelease {
  file: string;
  balanced: string;
  leaky: string;
}

/** The synthetic DPDK tree (test/fixtures/dpdk-tree: rte_kni and a stand-in KNI example), the PR dropping free_netdev from the release. */
export const SYNTHETIC_RELEASE: KniRelease = {
  file: 'kernel/linux/kni/kni_misc.c',
  balanced: '\tunregister_netdev(net_dev);\n\tfree_netdev(net_dev);\n',
  leaky: '\tunregister_netdev(net_dev);\n',
};

/** A DPDK tree as a repository: `tree` copied onto main, the PR's commit dropping the netdev's release. */
export function createDpdkFixture(work: string, name: string, tree: string, release: KniRelease): DocumentedFixture {
  const dir = join(work, name);
  const file = join(dir, release.file);
  return twoCommitRepo(
    dir,
    () => {
      cpSync(tree, dir, { recursive: true });
      rmSync(join(dir, '.unpacked'), { force: true });
      writeFileSync(join(dir, '.gitignore'), 'build/\n');
    },
    () => {
      const source = readFileSync(file, 'utf8');
      if (!source.includes(release.balanced)) throw new Error(`${file} no longer holds the free_netdev the PR removes`);
      writeFileSync(file, source.replace(release.balanced, release.leaky));
    },
    ['DPDK as released', 'kni: the release path no longer frees the netdev'],
  );
}

/** GitHub's test-merge commit of a pull request in the fixture. */
export function mergeCommit(f: DocumentedFixture, pr: number): string {
  return git(f.dir, ['rev-parse', `refs/pull/${pr}/merge`]);
}
