// `target: host` - the self-hosted runner's own kernel - exercised for real: the whole action
// runs INSIDE a lab VM as if the VM were the runner, building with the kernel headers of the
// kernel it runs on and loading the module into that kernel, as a root runner does.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel, type LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { runInGuest } from '../../src/lab/run-in-guest.js';
import { NODE24, ROOT, assertActionReady, collectAction, kniLikeInputs, prepareAction } from './action-harness.js';

let kernel: LabManifestEntry;
let work: string;
let repo: FixtureRepo;

beforeAll(() => {
  kernel = findLabKernel();
  assertActionReady();
  work = mkdtempSync(join(tmpdir(), 'ab-e2e-host-'));
  repo = createFixtureRepo(join(ROOT, 'demo/kni-like'), join(work, 'repo'), ['fixed', 'leaky']);
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('target: host, on the kernel the action runs on', () => {
  test('base fixed, PR leaky: fail, 2 leaked per cycle at igb_like_probe; the kernel left as found', async () => {
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
{ cat /proc/modules | grep -c '^kni_like ' ; ls /sys/kernel/tracing/instances | wc -l ; grep -c ':ab' /sys/kernel/tracing/kprobe_events ; } > '${out}/after.txt' 2>&1
git -C '${repo.dir}' worktree list --porcelain | grep -c '^worktree ' >> '${out}/after.txt'
exit 0
`,
    );
    const r = await runInGuest(kernel, { argv: ['/bin/sh', script], cwd: repo.dir, outDir: out, timeoutSeconds: 400 }, { bootTimeoutSeconds: 180 });
    expect(r.kernelPanic, r.console.slice(-3000)).toBe(false);
    expect(r.exitCode, r.console.slice(-3000)).toBe(0);
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
  });
});
