// Cancelling the action itself (dist/index.js under Node 24) in the middle of a cycle, target vm:
// SIGTERM (what GitHub sends a cancelled job) ends the VM, removes the worktrees and reports the
// run as cancelled; after SIGKILL the VM dies with its parent and the post step removes the rest.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/fixture-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { NODE24, ROOT, assertActionReady, collectAction, kniLikeInputs, prepareAction, runAction, type ActionRun } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-cancel-');
let repo: FixtureRepo;

beforeAll(() => {
  findLabKernel();
  assertActionReady();
  repo = createFixtureRepo(join(ROOT, 'demo/kni-like'), join(work, 'repo'), ['fixed', 'leaky']);
});

/** QEMU processes whose command line names this run's out dir. */
function qemusOf(outDir: string): number {
  const r = spawnSync('pgrep', ['-f', `qemu-system.*${outDir}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

function worktrees(): number {
  return (spawnSync('git', ['worktree', 'list', '--porcelain'], { cwd: repo.dir, encoding: 'utf8' }).stdout.match(/^worktree /gm) ?? []).length;
}

/** Starts the action, sends `signal` once the base side's second cycle runs, waits for the end. */
function interrupted(
  name: string,
  signal: NodeJS.Signals,
  env: Record<string, string> = {},
): Promise<{ run: ActionRun; outDir: string; afterSignal: number; qemusWhileRunning: number }> {
  const outDir = join(work, name, 'out');
  const p = prepareAction({
    dir: join(work, name),
    workspace: repo.dir,
    inputs: kniLikeInputs(repo.app, outDir, { 'base-ref': repo.shas[0], 'head-ref': repo.shas[1], hold: '5', cycles: '3' }),
  });
  return new Promise((resolveRun, reject) => {
    const child = spawn(NODE24, p.argv, { env: { ...p.env, ...env }, cwd: repo.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sentAt = 0;
    let qemusWhileRunning = 0;
    const onData = (b: Buffer) => {
      out += b.toString();
      if (sentAt === 0 && /cycle 2\/3/.test(out)) {
        qemusWhileRunning = qemusOf(outDir);
        sentAt = Date.now();
        child.kill(signal);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (sentAt === 0) reject(new Error(`the run ended before its second cycle:\n${out.slice(-3000)}`));
      else resolveRun({ run: collectAction(p, code, out), outDir, afterSignal: (Date.now() - sentAt) / 1000, qemusWhileRunning });
    });
  });
}

describe('cancelling the action in a VM run', () => {
  test('SIGTERM mid-cycle: inconclusive "cancelled", the VM gone, the worktrees removed, within seconds', async () => {
    const { run, outDir, afterSignal, qemusWhileRunning } = await interrupted('sigterm', 'SIGTERM');
    expect(qemusWhileRunning).toBe(1);
    expect(run.code).toBe(1);
    expect(run.outputs.verdict, run.stdout.slice(-3000)).toBe('inconclusive');
    expect(run.report?.base.status).toBe('cancelled');
    expect(run.report?.pr.status).toBe('cancelled');
    expect(run.report?.comparison.headline).toBe('⚠️ inconclusive: the run was cancelled');
    expect(run.stdout).toMatch(/::error::⚠️ inconclusive: the run was cancelled/);
    expect(afterSignal).toBeLessThan(30);
    expect(qemusOf(outDir)).toBe(0);
    expect(worktrees()).toBe(1);
  });

  test('SIGKILL mid-cycle: the VM dies with the action; the post step removes the worktrees and every temporary folder', async () => {
    // A temporary directory of its own: what is left in it after the post step was left by this run.
    const tmp = join(work, 'sigkill-tmp');
    mkdirSync(tmp, { recursive: true });
    const { run, outDir, qemusWhileRunning } = await interrupted('sigkill', 'SIGKILL', { TMPDIR: tmp });
    expect(qemusWhileRunning).toBe(1);
    expect(run.code).toBeNull();
    // QEMU runs under setpriv --pdeathsig: it gets SIGKILL when its parent dies.
    for (let i = 0; i < 50 && qemusOf(outDir) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(qemusOf(outDir)).toBe(0);
    expect(worktrees()).toBe(3);
    const post = runAction({ dir: join(work, 'sigkill-post'), workspace: repo.dir, inputs: {}, step: 'post', stateFile: run.stateFile });
    expect(post.code, post.stdout).toBe(0);
    expect(worktrees()).toBe(1);
    // The temporary folder that held the worktrees is gone too.
    const root = (JSON.parse(/^worktrees<<(\S+)\n([\s\S]*?)\n\1$/m.exec(readFileSync(run.stateFile, 'utf8'))?.[2] ?? '{}') as { root?: string }).root;
    expect(root).toMatch(/alloc-balance-src-/);
    expect(existsSync(root!)).toBe(false);
    expect(existsSync(outDir)).toBe(true);
    // The VM's control folder (guest.env, job.sh) was there while it ran, and is gone now.
    expect(readFileSync(run.stateFile, 'utf8')).toMatch(/alloc-balance-vm-/);
    expect(readdirSync(tmp).filter((f) => f.startsWith('alloc-balance-'))).toEqual([]);
  });
});
