// `alloc-balance demo`: the main job on a built-in default. A git repository whose base commit
// holds the fixed kni_like module and whose PR commit reintroduces rte_kni's netdev leak; both
// are built, loaded in a VM and cycled; the balance table is printed. Exit 0 when the leak is
// caught (verdict fail on the PR), 1 otherwise.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { packageRoot, cliPath } from '../bundle-paths.js';
import { setupLab } from '../lab/setup.js';
import { KERNEL_SPEC_HINT, parseKernelSpec } from '../lab/kernel-spec.js';
import { parseSettings } from '../settings/settings.js';
import { InputError, UsageError } from '../errors.js';
import { defaultNumber, readChoice, readNumber } from '../inputs/table.js';
import { createFixtureRepo, type FixtureRepo } from '../demo/fixture-repo.js';
import { prepareWorktrees } from '../sources/worktrees.js';
import { VmTargetRunner } from '../run/launcher.js';
import { buildReport, measure } from '../run/pipeline.js';
import { cancelOnSignals } from '../run/cancellation.js';
import { renderComment } from '../report/comment.js';
import { renderText } from '../report/terminal.js';
import type { RunReport, SideRun } from '../core/model.js';
import type { Settings } from '../settings/settings.js';
import { readArgs } from './args.js';
import { EXIT } from './exit-codes.js';
import { consoleGroup, stepLine } from './console-io.js';
import { stopwatch } from '../elapsed.js';

function timings(run: SideRun): string {
  const t = run.timings;
  const names: Record<string, string> = { guestSetup: 'guest set-up', job: 'kernel-side job', vm: 'VM total' };
  const parts = ['build', 'boot', 'guestSetup', 'job', 'cycles', 'analysis', 'vm']
    .filter((k) => t[k] !== undefined)
    .map((k) => `${names[k] ?? k} ${t[k].toFixed(1)} s`);
  return `${run.side === 'base' ? 'base' : 'PR  '}: ${parts.join(', ')}`;
}

interface DemoOptions {
  out?: string;
  cycles: string;
  kernel?: string;
  errorPaths: string;
  keep: boolean;
}

/** An option checked as the action's input of the same name is, refused with the flag's name. */
function checkAsInput(flag: string, value: string, check: () => unknown): void {
  try {
    check();
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`demo: --${flag} "${value}" is not valid; expected ${e.expected}`);
    throw e;
  }
}

/** The demo's options, each held to the limits of the action's input; refused before anything is set up. */
function readDemoOptions(args: string[]): DemoOptions {
  const { values } = readArgs('demo', args, {
    out: { type: 'string' },
    cycles: { type: 'string' },
    kernel: { type: 'string' },
    'error-paths': { type: 'string' },
    keep: { type: 'boolean' },
  });
  if (values.kernel !== undefined && !parseKernelSpec(values.kernel)) throw new UsageError(`demo: --kernel "${values.kernel}" is not ${KERNEL_SPEC_HINT}`);
  const cycles = values.cycles ?? String(defaultNumber('cycles'));
  if (cycles.trim() === '') throw new UsageError('demo: --cycles needs a number, e.g. --cycles 3');
  checkAsInput('cycles', cycles, () => readNumber(() => cycles, 'cycles'));
  const errorPaths = values['error-paths'] ?? '';
  checkAsInput('error-paths', errorPaths, () => readChoice(() => errorPaths, 'error-paths'));
  if (values.out === '') throw new UsageError('demo: --out needs a folder');
  return { out: values.out, cycles, kernel: values.kernel, errorPaths, keep: values.keep === true };
}

/** The action's settings for the demo's repository: its exerciser as the workload, the output where the demo writes. */
function demoSettings(repo: FixtureRepo, o: DemoOptions, outDir: string): Settings {
  const inputs: Record<string, string> = {
    workload: `${repo.app} -n 2`,
    'vm-folders': dirname(repo.app),
    'ready-pattern': '^ready',
    hold: '0.5',
    cycles: o.cycles,
    'stop-signal': 'SIGTERM',
    'output-dir': outDir,
    'github-token': '',
    'error-paths': o.errorPaths,
  };
  return parseSettings((name) => inputs[name] ?? '');
}

function printReport(report: RunReport, outDir: string, whole: number): void {
  console.log('');
  console.log(renderText(report.comparison, { errorPaths: { base: report.base.errorPaths, pr: report.pr.errorPaths } }));
  console.log('');
  console.log(timings(report.base));
  console.log(timings(report.pr));
  console.log(`whole demo: ${whole.toFixed(1)} s`);
  console.log(`report: ${join(outDir, 'report.json')}; PR comment as markdown: ${join(outDir, 'comment.md')}`);
}

export async function demoCommand(args: string[]): Promise<number> {
  const options = readDemoOptions(args);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UsageError("demo: run it as root (it installs QEMU with apt and a kernel from Debian's archive): sudo npm run demo");
  }
  const whole = stopwatch();
  const fixtureDir = join(packageRoot(), 'demo', 'kni-like');
  if (!existsSync(join(fixtureDir, 'kni_like.c')))
    throw new UsageError(`demo: the fixture module is missing (${fixtureDir}): run the demo from a checkout of alloc-balance`);
  // The report, the PR comment and the traces: under the system's temporary folder unless --out says where.
  const outDir = options.out !== undefined ? resolve(options.out) : mkdtempSync(join(tmpdir(), 'alloc-balance-demo-out-'));
  console.log(`== output: ${outDir}`);

  console.log('== lab: QEMU, kernel image and matching headers');
  const labReady = stopwatch();
  const lab = await setupLab({ kernel: options.kernel, log: stepLine });
  stepLine(`kernel ${lab.release} ready (${labReady().toFixed(1)} s)`);

  const work = mkdtempSync(join(tmpdir(), 'alloc-balance-demo-'));
  // Ctrl-C ends the VM and removes the worktrees; the demo then says it was cancelled.
  const cancellation = cancelOnSignals();
  const { signal } = cancellation;
  try {
    const repo = createFixtureRepo(fixtureDir, join(work, 'repo'), ['fixed', 'leaky']);
    console.log(`== repository ${repo.dir}: base ${repo.shas[0].slice(0, 12)} (kni_like fixed), PR ${repo.shas[1].slice(0, 12)} (lad_dev never freed)`);
    const settings = demoSettings(repo, options, outDir);
    const trees = await prepareWorktrees(
      repo.dir,
      {
        event: 'workflow_dispatch',
        action: '',
        repository: 'local/kni_like',
        base: { ref: 'base', sha: repo.shas[0] },
        head: { ref: 'pr', sha: repo.shas[1] },
        prNumber: null,
        isFork: false,
        headRepo: 'local/kni_like',
      },
      join(work, 'trees'),
    );
    // Outside GitHub Actions the environment keeps the demo from changing udev (kvm-access.ts).
    const runner = new VmTargetRunner(lab, settings, {
      cliPath: cliPath(),
      nodePath: process.execPath,
      signal,
      env: process.env,
      log: stepLine,
    });
    let measured;
    try {
      const sides = {
        base: { side: 'base' as const, ref: 'base', sha: trees.baseSha, dir: trees.base },
        pr: { side: 'pr' as const, ref: 'pr', sha: trees.headSha, dir: trees.head },
      };
      measured = await measure(settings, sides, runner, { log: stepLine, group: consoleGroup, signal }, outDir);
    } finally {
      await trees.dispose();
    }
    if (signal.aborted) {
      console.log(`demo: cancelled (${(signal.reason as Error).message})`);
      return EXIT.cancelled;
    }
    const report = buildReport(settings, runner, { RUNNER_NAME: 'demo' }, measured);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(outDir, 'comment.md'), renderComment(report, { checkName: 'alloc-balance' }));
    printReport(report, outDir, whole());
    const caught = report.comparison.verdict === 'fail';
    console.log(caught ? 'demo: the leak was caught.' : 'demo: the leak was NOT caught - something is wrong on this machine.');
    return caught ? EXIT.ok : EXIT.fail;
  } finally {
    cancellation.dispose();
    if (!options.keep) rmSync(work, { recursive: true, force: true });
  }
}
