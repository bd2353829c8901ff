// Console and log text made safe to show: terminal escape sequences (colours, screen resets a
// firmware prints) and other control characters removed, newlines and tabs kept.

/** CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC \`), and two-character escapes (`ESC c`, `ESC ( B`). */
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])?/g;
/** C0 controls but tab and newline, DEL, C1 controls. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function plainText(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}
