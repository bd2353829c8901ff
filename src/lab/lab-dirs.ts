// Where the action keeps its VM lab. The runner user must be able to restore the Actions cache
// into it, so on Actions it lies under the runner's tool cache rather than /var/cache.
import { join } from 'node:path';
import { defaultLabDir, LAB_DIR_ENV } from './lab-kernel.js';

/**
 * Lab directories the action looks in, in order; a missing lab is set up in the first.
 * ALLOC_BALANCE_LAB alone when set; on Actions `$RUNNER_TOOL_CACHE/alloc-balance/lab`, then the
 * system lab (a self-hosted runner's lab prepared by hand); elsewhere the system lab.
 */
export function actionLabDirs(env: NodeJS.ProcessEnv): string[] {
  const chosen = env[LAB_DIR_ENV];
  if (chosen) return [chosen];
  const system = defaultLabDir({});
  if (env.GITHUB_ACTIONS === 'true' && env.RUNNER_TOOL_CACHE) return [join(env.RUNNER_TOOL_CACHE, 'alloc-balance', 'lab'), system];
  return [system];
}
