// The canary in words: the report's line about it and the reason a missed canary adds.
import { CANARY_MODULE, CANARY_SITE } from '../core/canary-module.js';
import type { CanaryResult } from '../core/model.js';

/** The report's line about the canary. */
export function canaryMarkdown(canary: CanaryResult | undefined): string {
  if (!canary) return '';
  const where = `${CANARY_SITE}${canary.location ? ` (${canary.location.split('/').pop()})` : ''}`;
  if (canary.caught) {
    return (
      `\n🐤 Canary caught: the planted leak of ${CANARY_MODULE} (1 netdev per cycle at ${where}) ` +
      `was found over ${canary.cycles} cycles on ${canary.kernel}; the detector works on this kernel.\n`
    );
  }
  return `\n⚠️ Canary NOT caught: ${canary.reason}. The detector does not work on this machine/kernel (${canary.kernel}); the table below proves nothing.\n`;
}

/** The reason a missed canary puts first: which module, how many cycles, why it was missed. */
export function canaryMissedReason(canary: CanaryResult): string {
  return `canary (${CANARY_MODULE}, ${canary.cycles} cycles): ${canary.reason}`;
}
