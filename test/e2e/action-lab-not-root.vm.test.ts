// The bundled action as a user who is neither root nor allowed passwordless sudo (here: nobody),
// with target: vm and an empty lab: it stops before anything else with an error naming the fixes.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { NODE24, ROOT, assertActionReady, prepareAction } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const NOBODY = 65534;
const work = useTempDir('ab-e2e-not-root-');

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('this test runs the action as another user: run it as root');
  assertActionReady();
});

/** Everyone may enter the folders and read the files under `dir`; executables stay executable. */
function openToAll(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) openToAll(path);
    else chmodSync(path, statSync(path).mode & 0o111 ? 0o755 : 0o644);
  }
}

/**
 * What the action needs to run as nobody - Node 24, the bundle and the package files beside it -
 * copied into a folder of its own under the temporary folder: the checkout may sit under a folder
 * only root can enter (a 0700 home), which nobody could not pass to reach them there.
 */
function stageForNobody(bundle: string): { node: string; script: string } {
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  cpSync(dirname(bundle), join(pkg, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(ROOT, 'kmod'), join(pkg, 'kmod'), { recursive: true });
  copyFileSync(NODE24, join(pkg, 'node'));
  openToAll(pkg);
  return { node: join(pkg, 'node'), script: join(pkg, 'dist', basename(bundle)) };
}

test('no root and no passwordless sudo: one error naming root, passwordless sudo and a lab prepared by hand', () => {
  const lab = mkdtempSync(join(work, 'lab-'));
  const payload = JSON.parse(readFileSync(join(ROOT, 'test/data/events/pull_request.json'), 'utf8'));
  const p = prepareAction({
    dir: join(work, 'step'),
    workspace: work,
    inputs: { workload: './exercise 2', 'ready-pattern': '^ready', track: 'alloc_netdev_mqs:free_netdev', cycles: '3' },
    event: { name: 'pull_request', payload },
    env: { GITHUB_REPOSITORY: 'nic-lab/kni-driver', ALLOC_BALANCE_LAB: lab, HOME: work },
  });
  const { node, script } = stageForNobody(p.argv[0]);
  for (const dir of [work, lab, join(work, 'step')]) chmodSync(dir, 0o777);
  for (const f of readdirSync(join(work, 'step'))) chmodSync(join(work, 'step', f), 0o666);
  const r = spawnSync(node, [script], { env: p.env, cwd: work, encoding: 'utf8', uid: NOBODY, gid: NOBODY, timeout: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.status, out).toBe(1);
  expect(out).toMatch(
    new RegExp(
      `^::error::target: vm sets up its kernel lab as root \\(apt packages, kernel headers\\), ` +
        `but this action runs as uid ${NOBODY} and (sudo is not installed \\(not found on PATH\\)|sudo -n refused: .*)\\. ` +
        `Run the runner as root or allow it passwordless sudo`,
      'm',
    ),
  );
  expect(out).toContain(`sudo alloc-balance lab setup --dir ${lab} --owner ${NOBODY}:${NOBODY}`);
  expect(out).not.toContain('::group::Sources');
  expect(readdirSync(lab)).toEqual([]);
});
