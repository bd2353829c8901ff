import * as core from '@actions/core';
import { cliPath } from './bundle-paths.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { removeWorktrees } from './sources/worktrees.js';

/** The post step: restores the machine whatever happened in the main step. */
export async function cleanup(): Promise<void> {
  try {
    const trees = core.getState('worktrees');
    if (trees) {
      const { repo, dirs } = JSON.parse(trees) as { repo: string; dirs: string[] };
      await removeWorktrees(repo, dirs);
    }
    // A VM's kernel state ends with the VM; only this machine's own kernel can be left changed.
    const outDir = core.getState('target') === 'host' ? core.getState('output-dir') : '';
    for (const side of ['base', 'pr']) {
      const state = outDir ? join(resolve(process.env.GITHUB_WORKSPACE || process.cwd(), outDir), side, 'cleanup-state.json') : '';
      if (!state || !existsSync(state)) continue;
      const pending = JSON.parse(readFileSync(state, 'utf8')) as { steps?: unknown[] };
      if (!pending.steps || pending.steps.length === 0) continue;
      const root = typeof process.getuid !== 'function' || process.getuid() === 0;
      const argv = [process.execPath, cliPath(), 'target', 'cleanup', '--state', state];
      const r = spawnSync(root ? argv[0] : 'sudo', root ? argv.slice(1) : ['-n', ...argv], { encoding: 'utf8' });
      if (r.status !== 0) core.warning(`could not restore the kernel state of the ${side} run: ${(r.stderr || r.stdout).trim()}`);
      else core.info(`restored the kernel state left by the ${side} run`);
    }
  } catch (error) {
    core.warning(error instanceof Error ? error.message : String(error));
  }
}
