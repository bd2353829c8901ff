// How a side ran, in words: the status of its run and its reason.
import type { RunStatus, SideRun } from '../core/model.js';

export const STATUS_TEXT: Record<RunStatus, string> = {
  ok: 'ran cleanly',
  'build-failed': 'the module did not build',
  'load-failed': 'the module failed to load',
  'unload-failed': 'the module failed to unload',
  'workload-not-ready': 'the workload never became ready',
  'workload-failed': 'the workload failed',
  'kernel-splat': 'the kernel reported an error',
  timeout: 'the run timed out',
  cancelled: 'the run was cancelled',
  'setup-failed': 'the run could not be set up',
};

export function describeStatus(run: SideRun): string {
  const what = STATUS_TEXT[run.status];
  return run.reason ? `${what}: ${run.reason}` : what;
}

/** A side named with its commit and how it ran: `PR (0123456789ab): the module did not build`. */
export function sideText(name: string, run: SideRun): string {
  return `${name} (${run.sha.slice(0, 12) || run.ref}): ${describeStatus(run)}`;
}
