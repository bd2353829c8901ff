// What the analyzer matches trace lines against: the tracked pairs, the functions and events
// that allocate or release in each, and the function-tracer line ends seen before.
import type { PairSpec } from './model.js';
import type { CallerAcc, Ledger, Role } from './ledger.js';

export interface PairState {
  spec: PairSpec;
  fn: Ledger;
  addr: Ledger;
  /** Allocations outside the module are not kept (kmem pairs, families found by track: auto). */
  moduleOnly: boolean;
}

export interface TracedFunction {
  pair: PairState;
  role: Role;
  /** The traced function (or kmem event) this entry stands for. */
  fn: string;
}

/**
 * The end of a function-tracer line, `func <-caller`, seen before: the same few texts repeat
 * millions of times, so a line is matched against them whole instead of being taken apart.
 */
export interface Tail {
  text: string;
  /** `text` as a sticky literal: V8 matches it in place several times faster than startsWith. */
  re: RegExp;
  /** null: an untracked function. */
  traced: TracedFunction[] | null;
  caller: string;
  /** Counter per traced function, once known (attribution without a stack depends on the caller only). */
  accs: (CallerAcc | undefined)[];
}

export const MAX_TAILS = 64;

/** A flat copy of a string cut from a chunk: a slice would keep the whole chunk alive. */
export function ownCopy(s: string): string {
  const key: Record<string, true> = { [s]: true };
  return Object.keys(key)[0];
}
