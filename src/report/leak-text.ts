// Figures and findings as words: a count, what a side leaks, a bad free. The headline, the
// reasons and the tables all say them the same way.
import { EPSILON, freedAtUnload } from '../core/compare.js';
import { round2 } from '../core/leak-rate.js';
import type { BadFree, BadFreeRow, SideFigures } from '../core/model.js';

export function fmt(n: number): string {
  return String(round2(n));
}

/** A count of objects: `1 object`, `2 objects`, `1.5 objects`. */
function objects(n: number): string {
  return `${fmt(n)} ${n === 1 ? 'object' : 'objects'}`;
}

/** What a side leaks, for the headline: `leaks 2 objects/cycle`, `grows 1 object/cycle while loaded, freed at unload`. */
export function leakText(f: SideFigures): string {
  if (freedAtUnload(f)) return `grows ${objects(f.leakedPerCycle)}/cycle while loaded, freed at unload`;
  if (f.leakedPerCycle > EPSILON) return `leaks ${objects(f.leakedPerCycle)}/cycle`;
  return `leaves ${objects(f.outstanding)} after unload`;
}

const BAD_FREE_TEXT: Record<BadFree['kind'], string> = {
  'double-free': 'frees an object a second time (double free)',
  'never-allocated': 'frees an address never allocated',
};

/** One bad-free row as a sentence: `frees an object a second time (double free) at f (2 on the PR, base none)`. */
export function badFreeText(r: BadFreeRow): string {
  return `${BAD_FREE_TEXT[r.kind]} at ${r.caller} (${r.pr} on the PR, base ${r.base === 0 ? 'none' : r.base})`;
}
