import type { RowStatus } from '../core/model.js';
import { fmt } from '../core/compare.js';

export const STATUS_LABEL: Record<RowStatus, string> = {
  balanced: '✅ balanced',
  'new-leak': '❌ new leak',
  worse: '❌ worse',
  'same-leak': '⚠️ same leak',
  better: '⬇️ better',
  fixed: '✅ fixed',
  unknown: '·',
  outside: '· not the module',
};

/** `+2`, `-0.5`, `0`. */
export function signed(n: number): string {
  return n > 0 ? `+${fmt(n)}` : fmt(n);
}
