// A hostile pull request against the bundled action (collect mode, target: vm): its Makefile, its
// module and its workload try to read secrets planted on this machine (a file in /root, a runner's
// credentials, the token actions/checkout persists in the workspace's .git/config, GITHUB_TOKEN and
// ACTIONS_RUNTIME_TOKEN in the environment), to reach a listener on 127.0.0.1 and to write outside
// their folders. None of the secrets may appear anywhere the run writes, and every attempt must fail.
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { createHostileRepo, filesBelow, type HostileRepo, plantedSecrets, secretsIn } from '../support/hostile-pr.js';
import { type ActionRun, ROOT, assertActionReady, git, kniLikeInputs, runActionAsync } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const SECRET = plantedSecrets();

const work = useTempDir('ab-hostile-');
let repo: HostileRepo;
let server: Server;
let connections = 0;
let rootSecret: string;
let writes: string[];
let run: ActionRun;
let outDir: string;

beforeAll(async () => {
  findLabKernel();
  assertActionReady();
  rootSecret = join('/root', `.ab-hostile-${process.pid}`);
  writeFileSync(rootSecret, SECRET.root);
  const runnerDir = join(work, 'actions-runner');
  mkdirSync(runnerDir);
  writeFileSync(join(runnerDir, '.credentials'), JSON.stringify({ scheme: 'OAuth', data: { token: SECRET.runner } }));
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  writes = [join(tmpdir(), `ab-hostile-write-${process.pid}`), join(work, 'outside-write')];
  const workspace = join(work, 'workspace');
  repo = createHostileRepo(join(ROOT, 'demo/kni-like'), workspace, {
    secretFiles: [rootSecret, join(runnerDir, '.credentials'), join(workspace, '.git', 'config')],
    port,
    writes,
  });
  git(workspace, ['config', 'http.https://github.com/.extraheader', SECRET.checkoutHeader]);
  outDir = join(work, 'run', 'out');
  run = await runActionAsync({
    dir: join(work, 'run'),
    workspace,
    inputs: kniLikeInputs(repo.app, outDir, {
      mode: 'collect',
      workload: repo.workload,
      cycles: '2',
      'base-ref': repo.base,
      'head-ref': repo.head,
      'github-token': SECRET.env,
    }),
    env: { GITHUB_TOKEN: SECRET.env, ACTIONS_RUNTIME_TOKEN: SECRET.runtime },
  });
}, 600_000);

afterAll(async () => {
  if (rootSecret) rmSync(rootSecret, { force: true });
  for (const w of writes ?? []) rmSync(w, { force: true });
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('a hostile PR, collect mode, target: vm', () => {
  test('the run went through: the PR was built, loaded and cycled, so every attempt ran', () => {
    expect(run.report, run.stdout).not.toBeNull();
    expect(run.report?.pr.status, run.stdout).toBe('ok');
    expect(run.outputs.verdict).toBe('pass');
  });

  test('the Makefile ran in the sandbox: no secret file, no credentials in its environment, no network, no write outside', () => {
    const log = readFileSync(join(outDir, 'pr', 'build.log'), 'utf8');
    const files = log.split('\n').filter((l) => l.startsWith('steal-file: '));
    // Kbuild reads the Makefile more than once: each time, all three files are out of reach.
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const line of files) expect(line).toMatch(/No such file or directory/);
    const env = log.split('\n').filter((l) => l.startsWith('steal-env: '));
    expect(env.length).toBeGreaterThan(0);
    expect(env.join('\n')).not.toMatch(/GITHUB_|ACTIONS_|INPUT_|RUNNER_/);
    expect(log).toMatch(/^steal-net: .*(Network is unreachable|Connection refused)/m);
    // A write to /tmp lands in the sandbox's own /tmp, gone with it; one to any other folder of the host fails.
    expect(log).toMatch(/^steal-write: .*outside-write: (No such file or directory|Directory nonexistent|Read-only file system)/m);
  });

  test('the module in the guest could open none of the files', () => {
    const dmesg = readFileSync(join(outDir, 'pr', 'dmesg.txt'), 'utf8');
    expect(dmesg.match(/hostile: \S+: error -2/g)).toHaveLength(3);
    expect(dmesg).not.toMatch(/WARNING.*hostile/);
  });

  test('the workload in the guest found nothing either, and its links to the secrets were removed before the host read the folder', () => {
    const logs = readdirSync(join(outDir, 'pr')).filter((f) => /^workload.*\.log$/.test(f));
    expect(logs.length).toBeGreaterThan(0);
    const text = logs.map((f) => readFileSync(join(outDir, 'pr', f), 'utf8')).join('\n');
    expect(text.match(/^steal-file: .*No such file or directory/gm)?.length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^steal-net: .*(Network is unreachable|Connection refused|No route)/m);
    expect(text).toMatch(/^steal-out: \//m);
    const left = filesBelow(outDir);
    expect(left.filter((f) => f.link).map((f) => f.path)).toEqual([]);
    expect(left.some((f) => f.path.endsWith('stolen.fifo'))).toBe(false);
    const suid = left.find((f) => f.path.endsWith('stolen-suid'));
    if (suid) expect(lstatSync(suid.path).mode & 0o6000).toBe(0);
    expect(run.stdout).toMatch(/removed before reading it: .*stolen-1\.txt \(link\)/);
  });

  test('nothing reached the listener on 127.0.0.1, and nothing was written outside the PR folders', () => {
    expect(connections).toBe(0);
    for (const w of writes) expect(existsSync(w), w).toBe(false);
  });

  test('no secret appears in any file of the out folder, the job summary or the log', () => {
    const leaks = filesBelow(outDir).flatMap((f) => secretsIn(f.text, SECRET).map((s) => `${f.path}: ${s}`));
    expect(leaks).toEqual([]);
    expect(secretsIn(run.summary, SECRET)).toEqual([]);
    expect(secretsIn(run.stdout, SECRET)).toEqual([]);
    expect(secretsIn(JSON.stringify(run.outputs), SECRET)).toEqual([]);
  });
});
