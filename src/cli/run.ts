// `alloc-balance run --base REF [--head REF]`: the action's check on one's own repository, outside
// GitHub Actions: base and head from the git repository in the current folder (or --repo), the
// action's inputs as options (--module-dir, --workload, --cycles, ...), the table printed and the
// report, the comment and the traces written. The command the PR comment's "Reproduce locally" gives.
import { chooseQemu, readLabQemu, systemQemuVersion } from '../lab/lab-qemu.js';
import { labDirOf } from '../lab/lab-kernel.js';
import { spawnRunner } from '../lab/command.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cliPath } from '../bundle-paths.js';
import { UsageError } from '../errors.js';
import type { ChangeUnderTest } from '../github/event.js';
import { setupLab, setupQemu } from '../lab/setup.js';
import { git } from '../sources/git.js';
import { renderText } from '../report/terminal.js';
import { cancelOnSignals } from '../run/cancellation.js';
import { renderComment } from '../report/comment.js';
import { checkChange } from '../run/pipeline.js';
import { findSandboxLauncher } from '../sandbox/build-sandbox.js';
import { LOCAL_RUN_INPUTS } from '../inputs/local-run.js';
import { parseSettings, type Settings } from '../settings/settings.js';
import { readArgs, type OptionSpec } from './args.js';
import { EXIT, VERDICT_EXIT } from './exit-codes.js';
import { consoleGroup, stepLine } from './console-io.js';

const OWN_OPTIONS = {
  base: { type: 'string' },
  head: { type: 'string' },
  repo: { type: 'string' },
  out: { type: 'string' },
} as const satisfies OptionSpec;

export const RUN_OPTIONS: OptionSpec = {
  ...OWN_OPTIONS,
  ...Object.fromEntries(LOCAL_RUN_INPUTS.map((name) => [name, { type: 'string' } as const])),
};

async function revParse(repo: string, ref: string, option: string): Promise<string> {
  try {
    return await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], repo);
  } catch {
    throw new UsageError(`run: ${option} ${ref} is no commit of the repository in ${repo}; fetch it first (git fetch origin ${ref})`);
  }
}

interface LocalChange {
  repo: string;
  change: ChangeUnderTest;
  settings: Settings;
  /** --out, resolved; '' for a folder of its own under the system's temporary folder. */
  wantedOut: string;
}

/** The repository, base and head, and every input, checked before anything is set up (or a folder made): a bad one is one line naming it. */
async function readLocalChange(args: string[]): Promise<LocalChange> {
  const { values } = readArgs('run', args, RUN_OPTIONS);
  const text = (name: string) => {
    const v = (values as Record<string, string | undefined>)[name];
    return v === undefined ? '' : v;
  };
  if (!text('base')) throw new UsageError('run: --base REF is required: the commit or ref to compare against, e.g. --base origin/main');
  if (values.out === '') throw new UsageError('run: --out needs a folder');
  const repo = resolve(text('repo') || '.');
  try {
    await git(['rev-parse', '--git-dir'], repo);
  } catch {
    throw new UsageError(`run: ${repo} is not a git repository: run it in a clone of the module's repository, or give --repo DIR`);
  }
  const baseSha = await revParse(repo, text('base'), '--base');
  const headRef = text('head') || 'HEAD';
  const headSha = await revParse(repo, headRef, '--head');
  const wantedOut = text('out') ? resolve(text('out')) : '';
  const settings = parseSettings((name) => {
    if (name === 'mode') return 'collect';
    if (name === 'output-dir') return wantedOut || 'alloc-balance-run';
    return (LOCAL_RUN_INPUTS as readonly string[]).includes(name) ? text(name) : '';
  });
  const change: ChangeUnderTest = {
    event: 'workflow_dispatch',
    action: '',
    repository: 'local/repository',
    base: { ref: text('base'), sha: baseSha },
    head: { ref: headRef, sha: headSha },
    prNumber: null,
    isFork: false,
    headRepo: '',
  };
  return { repo, change, settings, wantedOut };
}

/** The lab for a release, set up on first use, with a QEMU that emulates the NICs asked for when the system's does not. */
async function prepareLab(release: string | undefined, qemu: Parameters<typeof chooseQemu>[0] | undefined) {
  console.log('== lab: QEMU, kernel image and matching headers');
  const entry = await setupLab({ kernel: release, log: stepLine });
  if (qemu && 'problem' in chooseQemu(qemu, await systemQemuVersion(spawnRunner), readLabQemu(labDirOf(entry)))) {
    await setupQemu({ labDir: labDirOf(entry), log: stepLine });
  }
  return entry;
}

export async function runCommand(args: string[]): Promise<number> {
  const { repo, change, settings, wantedOut } = await readLocalChange(args);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UsageError(
      'run: run it as root (it loads modules and traces the kernel; target vm installs QEMU and a kernel with apt): sudo alloc-balance run ...',
    );
  }
  findSandboxLauncher();
  const outDir = wantedOut || mkdtempSync(join(tmpdir(), 'alloc-balance-run-'));
  settings.outputDir = outDir;
  console.log(`== output: ${outDir}`);
  console.log(`== base ${change.base.sha.slice(0, 12)} (${change.base.ref}) → head ${change.head.sha.slice(0, 12)} (${change.head.ref}) in ${repo}`);

  const cancellation = cancelOnSignals();
  try {
    const { report, reportPath } = await checkChange(
      settings,
      {
        log: stepLine,
        group: consoleGroup,
        workspace: repo,
        saveState: () => {},
        env: process.env,
        cliPath: cliPath(),
        nodePath: process.execPath,
        signal: cancellation.signal,
        prepareLab,
      },
      change,
      outDir,
    );
    if (cancellation.signal.aborted) {
      console.log(`run: cancelled (${(cancellation.signal.reason as Error).message})`);
      return EXIT.cancelled;
    }
    mkdirSync(outDir, { recursive: true });
    const commentFile = join(outDir, 'comment.md');
    writeFileSync(commentFile, renderComment(report, { checkName: settings.checkName }));
    console.log('');
    console.log(renderText(report.comparison, { base: report.base.analysis, pr: report.pr.analysis }));
    console.log('');
    console.log(`report: ${reportPath}; PR comment as markdown: ${commentFile}`);
    const verdict = report.comparison.verdict;
    return verdict === 'fail' && settings.failOn === 'never' ? EXIT.ok : VERDICT_EXIT[verdict];
  } finally {
    cancellation.dispose();
  }
}
