// The part of a build log a report shows: compiler and make errors first, then the tail.

const ERROR_LINE = /(\berror:|\bError \d+|fatal error|undefined reference|No such file or directory|\*\*\* |^ERROR: )/;

/**
 * About `maxLines` lines: the first error lines (each with the line after it, which holds
 * gcc's source excerpt), then the last lines of the log, without repeating lines.
 */
export function buildExcerpt(log: string, maxLines = 40): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '');
  const errorIdx: number[] = [];
  for (let i = 0; i < lines.length && errorIdx.length < maxLines / 2; i++) {
    if (ERROR_LINE.test(lines[i])) {
      errorIdx.push(i);
      if (i + 1 < lines.length && !ERROR_LINE.test(lines[i + 1])) errorIdx.push(i + 1);
    }
  }
  const chosen = new Set(errorIdx.slice(0, Math.floor(maxLines / 2)));
  const tailStart = Math.max(0, lines.length - (maxLines - chosen.size));
  const out: string[] = [];
  const head = [...chosen].filter((i) => i < tailStart).sort((a, b) => a - b);
  for (const i of head) out.push(lines[i]);
  if (head.length > 0) out.push('...');
  for (let i = tailStart; i < lines.length; i++) out.push(lines[i]);
  return out.join('\n');
}
