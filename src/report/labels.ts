import type { AccelUsed, RowStatus } from '../core/model.js';
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

/** `kvm`, or `tcg (software emulation: the CPU offers no vmx/svm …)`. */
export function accelText(accel: AccelUsed): string {
  return accel.kind === 'kvm' ? 'kvm' : `tcg (software emulation: ${accel.why})`;
}
