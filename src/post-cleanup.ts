import * as core from '@actions/core';
import { cliPath } from './bundle-paths.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { removeWorktrees } from './sources/worktrees.js';
import { readActionState } from './run/action-state.js';
import { asRoot } from './process/as-root.js';
import { describeExit, runCommand } from './process/run.js';

/** The post step: restores the machine whatever happened in the main step. */
export async function run(): Promise<void> {
  try {
    const state = readActionState((key) => core.getState(key));
    if (state.worktrees) {
      await removeWorktrees(state.worktrees.repo, state.worktrees.dirs);
      if (state.worktrees.root) rmSync(state.worktrees.root, { recursive: true, force: true });
    }
    for (const file of state.undoFiles ?? []) {
      if (!existsSync(file)) continue;
      const pending = JSON.parse(readFileSync(file, 'utf8')) as { steps?: unknown[] };
      if (!pending.steps || pending.steps.length === 0) continue;
      const [cmd, ...args] = asRoot([process.execPath, cliPath(), 'target', 'cleanup', '--state', file]);
      const r = await runCommand(cmd, args);
      if (r.code !== 0) core.warning(`could not restore the kernel state left by ${file}: ${(r.stderr || r.stdout).trim() || describeExit(r)}`);
      else core.info(`restored the kernel state left by ${file}`);
    }
    for (const dir of state.tempDirs ?? []) rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    core.warning(error instanceof Error ? error.message : String(error));
  }
}
