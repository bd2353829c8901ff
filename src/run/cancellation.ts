// One cancellation path for the action: SIGINT or SIGTERM (GitHub sends them when a job is
// cancelled) aborts one signal that every part of the run listens to; the run then stops its
// workload, restores the kernel, ends its VM and removes its worktrees before the step ends.

export interface Cancellation {
  signal: AbortSignal;
  dispose(): void;
}

export function cancelOnSignals(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Cancellation {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) controller.abort(new Error(`the run was cancelled by ${name}`));
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.removeListener(s, onSignal);
    },
  };
}
