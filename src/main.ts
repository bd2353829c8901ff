import * as core from '@actions/core';

/** The main step: the one place that fails the step. */
export async function run(): Promise<void> {
  try {
    core.info('alloc-balance');
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}

/** The post step: restores the machine whatever happened in the main step. */
export async function cleanup(): Promise<void> {
  try {
    core.info('alloc-balance cleanup');
  } catch (error) {
    core.warning(error instanceof Error ? error.message : String(error));
  }
}
