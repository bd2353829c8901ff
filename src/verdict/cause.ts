// The verdict as data: its state, what decided it (the cause, which also says whom it blames),
// and the reasons. report/headline.ts turns a cause into the one-line headline.
import type { BadFreeRow, CanaryResult, ComparisonRow, ErrorPathFinding, FailOn, RunStatus, SideRun, Verdict } from '../core/model.js';

/** A finding that fails the check under the policy: a bad free, or a leak at a row (its worst site when known). */
export type Finding = { kind: 'bad-free'; row: BadFreeRow } | { kind: 'leak'; row: ComparisonRow; site: string | null };

/**
 * What decided the verdict. The kind says whom it blames: the PR (`pr-failed`, `no-pr-trace`,
 * `leak`, `error-path-leak`), the environment (`both-failed`, `base-failed-too`,
 * `base-not-measured`, `untrusted-trace`), the detector (`canary-missed`), nobody (`cancelled`,
 * `balanced`, `changed-code-idle`: the PR's change was not exercised).
 */
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

export interface StructuredVerdict {
  state: Verdict;
  cause: VerdictCause;
  reasons: string[];
}
