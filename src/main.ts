import * as core from '@actions/core';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSettings, type Settings } from './settings/settings.js';
import { runPipeline, type PipelineIo } from './run/pipeline.js';
import { setStepOutputs } from './github/summary.js';
import { removeWorktrees } from './sources/worktrees.js';

function cliPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'cli.js');
}

function io(settings: Settings): PipelineIo {
  return {
    log: (l) => core.info(l),
    warn: (l) => core.warning(l),
    group: (name, fn) => core.group(name, fn),
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    saveState: (k, v) => core.saveState(k, v),
    env: process.env,
    cliPath: cliPath(),
    nodePath: process.execPath,
    onOutput: settings.mode === 'report' ? undefined : (text) => core.debug(text.trimEnd()),
  };
}

/** The main step: the one place that fails the step. */
export async function run(): Promise<void> {
  try {
    const settings = parseSettings((name) => core.getInput(name));
    core.debug(`settings: ${JSON.stringify({ ...settings, githubToken: settings.githubToken ? '***' : '' })}`);
    core.saveState('output-dir', settings.outputDir);
    core.saveState('target', settings.target);
    const result = await runPipeline(settings, io(settings));
    setStepOutputs({ verdict: result.verdict, report: result.reportPath, leakedPerCycle: result.leakedPerCycle, commentUrl: result.commentUrl });
    core.info(result.headline);
    if (result.verdict === 'fail' && settings.failOn !== 'never') core.setFailed(result.headline);
    else if (result.verdict === 'inconclusive') core.setFailed(`${result.headline} (an inconclusive run is never counted as balanced)`);
  } catch (error) {
    core.setOutput('verdict', 'fail');
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}

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
      const state = outDir ? join(process.env.GITHUB_WORKSPACE || process.cwd(), outDir, side, 'cleanup-state.json') : '';
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
