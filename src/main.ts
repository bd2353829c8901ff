import * as core from '@actions/core';
import { actionsDirCache } from './github/dir-cache.js';
import { cliPath } from './bundle-paths.js';
import { parseSettings, type Settings } from './settings/settings.js';
import { givenRunInputs } from './inputs/local-run.js';
import { runPipeline, type PipelineIo } from './run/pipeline.js';
import { setStepOutputs } from './github/summary.js';
import { prepareActionLab } from './run/action-lab.js';
import { cancelOnSignals } from './run/cancellation.js';
import { InputError, UsageError, verdictOnError } from './errors.js';

/** Passes text on one whole line at a time (console output arrives in arbitrary chunks). */
function lineWise(emit: (line: string) => void): (text: string) => void {
  let partial = '';
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) emit(line);
  };
}

function io(settings: Settings, signal: AbortSignal): PipelineIo {
  const log = (l: string) => core.info(l);
  const warn = (l: string) => core.warning(l);
  const group = <T>(name: string, fn: () => Promise<T>) => core.group(name, fn);
  return {
    log,
    warn,
    group,
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    saveState: (k, v) => core.saveState(k, v),
    env: process.env,
    cliPath: cliPath(),
    nodePath: process.execPath,
    signal,
    onOutput: settings.mode === 'report' ? undefined : lineWise((line) => core.debug(line)),
    cache: actionsDirCache(),
    runInputs: givenRunInputs((name) => core.getInput(name)),
    prepareLab: (release, qemu) => prepareActionLab(release, { env: process.env, nodePath: process.execPath, cliPath: cliPath(), log, warn, group }, qemu),
  };
}

/** The main step: the one place that fails the step. */
export async function run(): Promise<void> {
  const cancellation = cancelOnSignals();
  try {
    const settings = parseSettings((name) => core.getInput(name));
    core.debug(`settings: ${JSON.stringify({ ...settings, githubToken: settings.githubToken ? '***' : '' })}`);
    const result = await runPipeline(settings, io(settings, cancellation.signal));
    setStepOutputs({ verdict: result.verdict, report: result.reportPath, leakedPerCycle: result.leakedPerCycle, commentUrl: result.commentUrl });
    core.info(result.headline);
    if (result.verdict === 'fail' && settings.failOn !== 'never') core.setFailed(result.headline);
    else if (result.verdict === 'inconclusive') core.setFailed(`${result.headline} (an inconclusive run is never counted as balanced)`);
  } catch (error) {
    core.setOutput('verdict', verdictOnError(error, cancellation.signal.aborted));
    if (error instanceof Error && !(error instanceof InputError || error instanceof UsageError)) core.debug(error.stack ?? error.message);
    core.setFailed(error instanceof Error ? error.message : String(error));
  } finally {
    cancellation.dispose();
  }
}
