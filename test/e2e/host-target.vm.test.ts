// `target: host` - the self-hosted runner's own kernel - exercised for real: the whole action
// runs INSIDE a lab VM as if the VM were the runner, building with the kernel headers of the
// kernel it runs on and loading the module into that kernel, as a root runner does. The three
// scenarios run one after the other in one VM (one boot, and the later ones find node and the
// compiler in the guest's page cache); each test reads what its scenario left. The fourth is a
// hostile PR whose Makefile tries to read the machine's secrets, reach the network and write
// outside its folders: on target: host the module and workload run as root by design, the build
// is what must stay confined.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel, type LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { runInGuest } from '../../src/lab/run-in-guest.js';
import { installPrefix } from '../../src/sandbox/system-view.js';
import { createHostileRepo, filesBelow, plantedSecrets, secretsIn } from '../support/hostile-pr.js';
import { NODE24, ROOT, assertActionReady, collectAction, git, kniLikeInputs, prepareAction, type PreparedAction } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

let kernel: LabManifestEntry;
const work = useTempDir('ab-e2e-host-');
let repo: FixtureRepo;

beforeAll(() => {
  kernel = findLabKernel();
  assertActionReady();
  repo = createFixtureRepo(join(ROOT, 'demo/kni-like'), join(work, 'repo'), ['fixed', 'leaky']);
});

describe('target: host, on the kernel the action runs on', () => {
  /** The whole action, main then post step, then a look at what the kernel still holds. */
  function fullScenario(): { script: string; check: () => void } {
    const out = join(work, 'guest');
    mkdirSync(out, { recursive: true });
    const call = {
      dir: out,
      workspace: repo.dir,
      inputs: kniLikeInputs(repo.app, join(out, 'out'), { target: 'host', 'base-ref': repo.shas[0], 'head-ref': repo.shas[1] }),
    };
    const p = prepareAction(call);
    // The action's main step, then its post step, then a look at what the kernel still holds.
    const script = join(out, 'job.sh');
    // Input names have dashes, which a shell cannot export: env(1) passes them.
    const env = `env -i ${Object.entries(p.env)
      .map(([k, v]) => `'${k}=${v.replace(/'/g, `'\\''`)}'`)
      .join(' ')}`;
    writeFileSync(
      script,
      `cd '${repo.dir}'
${env} '${NODE24}' '${p.argv[0]}' > '${out}/main.log' 2>&1; echo $? > '${out}/main.code'
${env} '${NODE24}' '${p.argv[0].replace(/index\.js$/, 'post.js')}' > '${out}/post.log' 2>&1
{ cat /proc/modules | grep -c '^kni_like ' ; ls /sys/kernel/tracing/instances | wc -l ; ` +
        `grep -c ':ab' /sys/kernel/tracing/kprobe_events ; } > '${out}/after.txt' 2>&1
git -C '${repo.dir}' worktree list --porcelain | grep -c '^worktree ' >> '${out}/after.txt'
exit 0
`,
    );
    return {
      script,
      check: () => {
        const mainLog = readFileSync(join(out, 'main.log'), 'utf8');
        expect(readFileSync(join(out, 'main.code'), 'utf8').trim(), mainLog).toBe('1');
        const run = collectAction(p, 1, mainLog);
        expect(run.outputs.verdict, mainLog).toBe('fail');
        expect(run.report?.runner.target).toBe('host');
        expect(run.report?.runner.kernel).toBe(kernel.release);
        const leaking = run.report!.comparison.rows.filter((x) => !x.total && x.status === 'new-leak');
        expect(leaking.map((x) => [x.caller, x.pr?.leakedPerCycle])).toEqual([['igb_like_probe', 2]]);
        // module unloaded, no trace instance, no kprobe event of ours, only the main worktree
        expect(readFileSync(join(out, 'after.txt'), 'utf8').trim().split('\n')).toEqual(['0', '0', '0', '1']);
      },
    };
  }

  /**
   * The action interrupted in the base side's second cycle: `signal` to the action (TERM), or
   * KILL to the action and its kernel-side child, as a runner that gives up kills the process
   * tree, then the post step with the state the main step saved.
   */
  function interruptedScenario(name: string, how: 'term' | 'kill') {
    const out = join(work, name);
    mkdirSync(out, { recursive: true });
    const p = prepareAction({
      dir: out,
      workspace: repo.dir,
      inputs: kniLikeInputs(repo.app, join(out, 'out'), { target: 'host', 'base-ref': repo.shas[0], 'head-ref': repo.shas[1], hold: '5' }),
    });
    const env = `env -i ${Object.entries(p.env)
      .map(([k, v]) => `'${k}=${v.replace(/'/g, `'\\''`)}'`)
      .join(' ')}`;
    // The runner passes the saved state to the post step as STATE_<name>.
    const post = join(out, 'post.mjs');
    writeFileSync(
      post,
      `import { readFileSync } from 'node:fs'; import { spawnSync } from 'node:child_process';
const env = { ...process.env };
for (const m of readFileSync(${JSON.stringify(p.files.state)}, 'utf8').matchAll(/^([\\w-]+)<<(\\S+)\\n([\\s\\S]*?)\\n\\2$/gm)) env['STATE_' + m[1]] = m[3];
process.exitCode = spawnSync(process.execPath, [${JSON.stringify(p.argv[0].replace(/index\.js$/, 'post.js'))}], { env, stdio: 'inherit' }).status ?? 1;
`,
    );
    const check = `sh '${join(ROOT, 'test/kernel-side/guest/check-state.sh')}' ab none kni_like kni_like_app /run/alloc-balance/lock`;
    const script = join(out, 'job.sh');
    writeFileSync(
      script,
      `cd '${repo.dir}'
${env} '${NODE24}' '${p.argv[0]}' > '${out}/main.log' 2>&1 &
pid=$!
i=0; while ! grep -q 'cycle 2/3' '${out}/main.log'; do i=$((i + 1)); [ $i -gt 3000 ] && break; sleep 0.1; done
${check} > '${out}/during.txt'
${how === 'term' ? 'kill -TERM $pid' : "kill -KILL $pid; pkill -KILL -f 'cli.js target run'"}
wait $pid; echo $? > '${out}/main.code'
${check} > '${out}/after-main.txt'
${env} '${NODE24}' '${post}' > '${out}/post.log' 2>&1; echo $? > '${out}/post.code'
${check} > '${out}/after-post.txt'
git -C '${repo.dir}' worktree list --porcelain | grep -c '^worktree ' > '${out}/worktrees.txt'
exit 0
`,
    );
    const state = (f: string) =>
      Object.fromEntries(
        readFileSync(join(out, f), 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split('=') as [string, string]),
      );
    return { script, state, read: (f: string) => readFileSync(join(out, f), 'utf8').trim() };
  }

  /** A PR whose Makefile steals; the secrets are planted inside the guest, which plays the runner. */
  function hostileBuildScenario() {
    const out = join(work, 'hostile');
    mkdirSync(out, { recursive: true });
    const secrets = plantedSecrets();
    const rootSecret = '/root/.ab-hostile-planted';
    const runnerDir = join(out, 'actions-runner');
    mkdirSync(runnerDir);
    writeFileSync(join(runnerDir, '.credentials'), JSON.stringify({ data: { token: secrets.runner } }));
    const port = 47_123;
    const outsideWrite = join(out, 'outside-write');
    const workspace = join(out, 'workspace');
    const hostile = createHostileRepo(
      join(ROOT, 'demo/kni-like'),
      workspace,
      { secretFiles: [rootSecret, join(runnerDir, '.credentials'), join(workspace, '.git', 'config')], port, writes: ['/tmp/ab-hostile-write', outsideWrite] },
      ['build'],
    );
    git(workspace, ['config', 'http.https://github.com/.extraheader', secrets.checkoutHeader]);
    const p: PreparedAction = prepareAction({
      dir: out,
      workspace,
      inputs: kniLikeInputs(hostile.app, join(out, 'out'), {
        target: 'host',
        mode: 'collect',
        workload: hostile.workload,
        cycles: '2',
        'base-ref': hostile.base,
        'head-ref': hostile.head,
        'github-token': secrets.env,
      }),
      env: { GITHUB_TOKEN: secrets.env, ACTIONS_RUNTIME_TOKEN: secrets.runtime },
    });
    const env = `env -i ${Object.entries(p.env)
      .map(([k, v]) => `'${k}=${v.replace(/'/g, `'\\''`)}'`)
      .join(' ')}`;
    const listener = join(out, 'listener.py');
    writeFileSync(
      listener,
      `import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", ${port}))
s.listen(5)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    open(sys.argv[1], "w").write(str(n))
    c.close()
`,
    );
    const script = join(out, 'job.sh');
    // The control connection after the run proves the listener was reachable from outside the sandbox.
    writeFileSync(
      script,
      `ip link set lo up
printf '%s' '${secrets.root}' > ${rootSecret}
python3 '${listener}' '${out}/connections.txt' & lpid=$!
sleep 1
cd '${workspace}'
${env} '${NODE24}' '${p.argv[0]}' > '${out}/main.log' 2>&1; echo $? > '${out}/main.code'
python3 -c 'import socket; socket.create_connection(("127.0.0.1", ${port}), 3)' && sleep 1
kill $lpid
[ -e /tmp/ab-hostile-write ] && echo present > '${out}/tmp-write.txt' || echo absent > '${out}/tmp-write.txt'
exit 0
`,
    );
    const read = (f: string) => readFileSync(join(out, f), 'utf8').trim();
    return { script, p, secrets, outsideWrite, read, outDir: join(out, 'out') };
  }

  const CLEAN = {
    kprobe_events_total: '0',
    instances_total: '0',
    module: 'unloaded',
    workload_processes: '0',
    lock: 'absent',
    nr_hugepages: '0',
    hugetlbfs_mounts: '0',
    top_current_tracer: 'nop',
  };

  let full: ReturnType<typeof fullScenario>;
  let term: ReturnType<typeof interruptedScenario>;
  let kill: ReturnType<typeof interruptedScenario>;
  let hostile: ReturnType<typeof hostileBuildScenario>;
  let guest: Awaited<ReturnType<typeof runInGuest>>;

  beforeAll(async () => {
    full = fullScenario();
    term = interruptedScenario('sigterm', 'term');
    kill = interruptedScenario('sigkill', 'kill');
    hostile = hostileBuildScenario();
    // Each scenario is bounded on its own, so that one that hangs leaves the next its time.
    const script = join(work, 'scenarios.sh');
    writeFileSync(script, `${[full, term, kill, hostile].map((x) => `timeout 420 /bin/sh '${x.script}'`).join('\n')}\nexit 0\n`);
    // The guest plays the runner: it sees the action's bundle, node and the state checker, besides `work`.
    const tool = [dirname(hostile.p.argv[0]), installPrefix(NODE24), join(ROOT, 'test/kernel-side/guest')];
    guest = await runInGuest(
      kernel,
      { argv: ['/bin/sh', script], cwd: repo.dir, outDir: work, shares: tool, timeoutSeconds: 1300 },
      { bootTimeoutSeconds: 180 },
    );
  }, 1_400_000);

  test('the VM ran the four scenarios', () => {
    expect(guest.kernelPanic, guest.console.slice(-3000)).toBe(false);
    expect(guest.exitCode, guest.console.slice(-3000)).toBe(0);
  });

  test('base fixed, PR leaky: fail, 2 leaked per cycle at igb_like_probe; the kernel left as found', () => {
    full.check();
  });

  test('SIGTERM to the action mid-cycle: the main step itself stops the workload and restores the kernel', () => {
    const { state, read } = term;
    expect(state('during.txt')).toMatchObject({ module: 'loaded', workload_processes: '1', lock: 'present', instances_total: '1' });
    expect(read('main.code')).toBe('1');
    expect(read('main.log')).toMatch(/::error::⚠️ inconclusive: the run was cancelled/);
    expect(state('after-main.txt')).toMatchObject(CLEAN);
    expect(read('worktrees.txt')).toBe('1');
  });

  test('SIGKILL to the action and its kernel-side child mid-cycle: the post step restores the kernel and removes the worktrees', () => {
    const { state, read } = kill;
    expect(state('during.txt')).toMatchObject({ module: 'loaded', workload_processes: '1', lock: 'present' });
    // Nothing could restore it before the post step.
    expect(state('after-main.txt')).toMatchObject({ module: 'loaded', lock: 'present' });
    expect(read('post.code'), read('post.log')).toBe('0');
    expect(read('post.log')).toMatch(/restored the kernel state left by .*\/out\/base\/cleanup-state\.json/);
    expect(state('after-post.txt')).toMatchObject(CLEAN);
    expect(read('worktrees.txt')).toBe('1');
  });

  test('a hostile Makefile on target: host: no secret, no network, no write outside, nothing in the report', () => {
    const { p, secrets, read } = hostile;
    const mainLog = read('main.log');
    expect(read('main.code'), mainLog).toBe('0');
    const run = collectAction(p, 0, mainLog);
    expect(run.report?.pr.status, mainLog).toBe('ok');
    const log = readFileSync(join(hostile.outDir, 'pr', 'build.log'), 'utf8');
    const files = log.split('\n').filter((l) => l.startsWith('steal-file: '));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const line of files) expect(line).toMatch(/No such file or directory/);
    expect(log).not.toMatch(/^steal-env: (GITHUB_|ACTIONS_|INPUT_|RUNNER_)/m);
    expect(log).toMatch(/^steal-net: .*(Network is unreachable|Connection refused)/m);
    // Only the control connection made outside the sandbox reached the listener.
    expect(read('connections.txt')).toBe('1');
    expect(read('tmp-write.txt')).toBe('absent');
    expect(existsSync(hostile.outsideWrite)).toBe(false);
    const leaks = filesBelow(hostile.outDir).flatMap((f) => secretsIn(f.text, secrets).map((x) => `${f.path}: ${x}`));
    expect(leaks).toEqual([]);
    expect(secretsIn(run.summary, secrets)).toEqual([]);
    expect(secretsIn(mainLog, secrets)).toEqual([]);
  });
});
