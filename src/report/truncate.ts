// GitHub's size limits on what this action writes, and cutting text to fit them.

export const COMMENT_MAX_CHARS = 65_536;
export const CHECK_SUMMARY_MAX_CHARS = 65_535;
export const STEP_SUMMARY_MAX_BYTES = 1024 * 1024;

/**
 * Cuts `text` to at most `max` characters, ending with a note that says how much was left out and
 * where to find it. Cuts at a line end when one is near, so that a table is not split mid-row.
 */
export function truncateText(text: string, max: number, where = 'the job summary and the JSON report'): string {
  if (text.length <= max) return text;
  const note = (omitted: number) => `\n\n_… ${omitted} characters cut to fit GitHub's limit; the full text is in ${where}._\n`;
  const room = max - note(text.length).length;
  let cut = Math.max(0, room);
  const lineEnd = text.lastIndexOf('\n', cut);
  if (lineEnd > cut - 2000 && lineEnd > 0) cut = lineEnd;
  // Never leave half of a surrogate pair at the end.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, cut) + note(text.length - cut);
}
