import type { AccelUsed, RowStatus, Verdict } from '../core/model.js';
import { fmt } from './leak-text.js';

const STATUS_LABEL: Record<RowStatus, string> = {
  balanced: '✅ balanced',
  'new-leak': '❌ new leak',
  worse: '❌ worse',
  'same-leak': '⚠️ same leak',
  better: '⬇️ better',
  fixed: '✅ fixed',
  unknown: '·',
  outside: '· not the module',
  'not-measured': '⚠️ not measured',
};

/** Under an inconclusive verdict no row reads as passed: what it shows is no evidence yet. */
const UNPROVEN: Partial<Record<RowStatus, string>> = {
  balanced: '· balanced (unproven)',
  fixed: '· fixed (unproven)',
};

/** The status cell of a row of a comparison with this verdict. */
export function statusLabel(status: RowStatus, verdict: Verdict): string {
  return (verdict === 'inconclusive' ? UNPROVEN[status] : undefined) ?? STATUS_LABEL[status];
}

/** `+2`, `-0.5`, `0`. */
export function signed(n: number): string {
  return n > 0 ? `+${fmt(n)}` : fmt(n);
}

/** `kvm`, or `tcg (software emulation: the CPU offers no vmx/svm …)`. */
export function accelText(accel: AccelUsed): string {
  return accel.kind === 'kvm' ? 'kvm' : `tcg (software emulation: ${accel.why})`;
}
