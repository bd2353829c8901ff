// The line under an inconclusive verdict: the headline says what went wrong, this says what to
// change before running again. Read from how each side ran, the canary and the traces' losses.
import type { AnalysisResult, CanaryResult, Comparison, RunStatus } from '../core/model.js';

export interface InconclusiveRun {
  comparison: Comparison;
  base?: { status: RunStatus; analysis?: AnalysisResult };
  pr?: { status: RunStatus; analysis?: AnalysisResult };
  canary?: CanaryResult;
}

/** The actions that would turn this inconclusive run into a verdict, in the order to take them. */
function inconclusiveActions(run: InconclusiveRun): string[] {
  const { comparison: c, base, pr, canary } = run;
  if (c.verdict !== 'inconclusive') return [];
  const actions: string[] = [];
  if (canary && !canary.caught) {
    actions.push('run on a kernel where the canary is caught (e.g. `target: vm`, another `vm-kernel`): until then no table of this machine is evidence');
  }
  if (base?.status === 'cancelled' || pr?.status === 'cancelled') {
    actions.push('re-run the job: it was cancelled before both sides were measured');
  } else if (base && base.status !== 'ok') {
    actions.push(
      pr && pr.status === base.status
        ? 'base and PR fail the same way, so fix the runner or its kernel (the log excerpts below show the failure), then re-run'
        : 'fix the base, or the environment it runs in, until it builds, loads and runs its workload (its log excerpt is below), then re-run',
    );
  }
  const lostBy = [base?.analysis?.lostBy, pr?.analysis?.lostBy];
  const lost = c.base.lostEvents + c.pr.lostEvents;
  const probes = lostBy.reduce((n, by) => n + (by?.probes ?? 0), 0);
  if (lost > probes) actions.push('raise `trace-buffer-kb` (per CPU; double it), then re-run');
  if (probes > 0) actions.push('give the target more CPUs (`vm-cpus`: each adds return-probe instances) or a quieter machine, then re-run');
  const incomplete = (!c.base.complete && c.base.lostEvents === 0) || (!c.pr.complete && c.pr.lostEvents === 0);
  if (incomplete && actions.length === 0) actions.push('fix what "Reasons and problems" below names, then re-run');
  if (actions.length === 0) actions.push('see "Reasons and problems" below, then re-run');
  return actions;
}

/** Markdown: why an inconclusive run is not a pass, and what to do; '' for any other verdict. */
export function whatToDoMarkdown(run: InconclusiveRun): string {
  const actions = inconclusiveActions(run);
  if (actions.length === 0) return '';
  return `Not a pass: an inconclusive run is evidence neither of balance nor of a leak. **What to do:** ${actions.join('; ')}.`;
}
