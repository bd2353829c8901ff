// Kernel splats in a dmesg text: oopses, BUGs, WARNINGs, KASAN reports, RCU stalls, hung
// tasks, general protection faults (the list: kernel-splats.ts). Pure.
import { REPORT_END, splatOf } from '../kernel-splats.js';

interface Splat {
  kind: string;
  /** The line that matched, then the lines after it up to the end of the report. */
  excerpt: string;
}

/**
 * At most `max` splats, each excerpt at most `maxLines` lines: up to two lines before the match
 * (a WARN's own message, the module's last words), the match, and the report up to its end.
 */
export function findSplats(dmesg: string, max = 3, maxLines = 30): Splat[] {
  const lines = dmesg.split('\n');
  const out: Splat[] = [];
  let consumed = 0;
  for (let i = 0; i < lines.length && out.length < max; i++) {
    const p = splatOf(lines[i]);
    if (!p) continue;
    const excerpt: string[] = lines.slice(Math.max(consumed, i - 2), i).filter((l) => l.trim() !== '');
    let j = i;
    for (; j < lines.length && excerpt.length < maxLines; j++) {
      excerpt.push(lines[j]);
      if (REPORT_END.test(lines[j])) break;
    }
    out.push({ kind: p.kind, excerpt: excerpt.join('\n') });
    i = j;
    consumed = j + 1;
  }
  return out;
}
