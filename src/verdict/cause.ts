// The verdict as data: its state, what decided it (the cause, which also says whom it blames),
// and the reasons. The causes themselves are data of core/model.ts; report/headline.ts turns one
// into the one-line headline.
import type { Verdict, VerdictCause } from '../core/model.js';

/**
 * Whom a verdict holds responsible: the PR's code, the environment it ran in (the runner, its
 * kernel, the base), the detector (it missed the canary's known leak), or nobody.
 */
type Blame = 'pr' | 'environment' | 'detector' | 'none';

const BLAME: Record<VerdictCause['kind'], Blame> = {
  cancelled: 'none',
  'both-failed': 'environment',
  'base-failed-too': 'environment',
  'pr-failed': 'pr',
  'base-not-measured': 'environment',
  'no-pr-trace': 'pr',
  'untrusted-trace': 'environment',
  leak: 'pr',
  balanced: 'none',
  'error-path-leak': 'pr',
  // The PR's change was not exercised: the workload's, not the code's.
  'changed-code-idle': 'none',
  'canary-missed': 'detector',
};

export interface StructuredVerdict {
  state: Verdict;
  cause: VerdictCause;
  blame: Blame;
  reasons: string[];
}

export function structuredVerdict(state: Verdict, cause: VerdictCause, reasons: string[]): StructuredVerdict {
  return { state, cause, blame: BLAME[cause.kind], reasons };
}
