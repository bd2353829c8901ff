// The verdict as data: its state, what decided it (the cause, which also says whom it blames),
// and the reasons. report/headline.ts turns a cause into the one-line headline.
import type { BadFreeRow, CanaryResult, ComparisonRow, ErrorPathFinding, FailOn, RunStatus, SideRun, Verdict } from '../core/model.js';

/** A finding that fails the check under the policy: a bad free, or a leak at a row (its worst site when known). */
export type Finding = { kind: 'bad-free'; row: BadFreeRow } | { kind: 'leak'; row: ComparisonRow; site: string | null };

/** What decided the verdict; its kind also says whom the verdict blames (BLAME). */
export type VerdictCause =
  | { kind: 'cancelled' }
  | { kind: 'both-failed'; status: RunStatus }
  | { kind: 'base-failed-too'; base: SideRun }
  | { kind: 'pr-failed'; pr: SideRun }
  | { kind: 'base-not-measured'; base: SideRun }
  | { kind: 'no-pr-trace' }
  /** `why`: the traces that lost events or are incomplete; `unmeasured`: pairs asked for and not measured. */
  | { kind: 'untrusted-trace'; why: string[]; unmeasured: string[] }
  | { kind: 'leak'; findings: Finding[] }
  | { kind: 'balanced'; failOn: FailOn; prRate: number; baseRate: number; noAllocations: boolean }
  | { kind: 'error-path-leak'; findings: ErrorPathFinding[] }
  | { kind: 'changed-code-idle'; idle: string[] }
  | { kind: 'canary-missed'; canary: CanaryResult };

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
