// Function-tracer lines recognised from their bytes in one pass, without searching for the line
// break or the field separators. A line is a head (task, CPU, flags), a timestamp, `: ` and a
// tail (`func <-caller`); heads and tails repeat millions of times, so each line's are compared
// in place with the ones seen before. What such a line means is what the general reading of it
// gives (TraceAnalyzer.pushRange): a head is only kept when that holds for every line it begins.
import { contextOfBytes } from './awaiting-stacks.js';
import { bucketOf, PackedText } from './packed-text.js';
import type { KnownTails, Tail } from './traced-functions.js';

/** Heads are looked up by their bytes 12-15 (where a task's name and pid end): shorter ones are not kept. */
const MIN_HEAD = 16;
const MAX_HEADS = 1024;

/** A line's bytes up to its timestamp, and the CPU and interrupt level they give. */
interface Head {
  text: PackedText;
  /** lineContext() of every line it begins. */
  context: number;
}

export class KnownLines {
  private readonly heads: (Head[] | undefined)[] = [];
  private headCount = 0;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewed: Uint8Array | null = null;
  /** Set by match(): the context of the line matched, and where the line after it starts. */
  context = 0;
  next = 0;
  /** Set by match() when it returned null: no known head begins the line. */
  headMissed = false;
  /** The first 8 bytes of the last timestamp read that had as many, all digits and dots (never NaN or 0). */
  private stampStart = -1;

  constructor(private readonly tails: KnownTails) {}

  /**
   * The tail of the line at `start` when the line is a known head, a timestamp, `: `, a known tail
   * and a line break, within bytes[start, to) (`to` follows a line break); else null.
   */
  match(bytes: Uint8Array, start: number, to: number): Tail | null {
    this.headMissed = true;
    if (start + MIN_HEAD > to) return null;
    if (bytes !== this.viewed) {
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.viewed = bytes;
    }
    const view = this.view;
    const heads = this.heads[bucketOf(view, start + 12)];
    if (heads === undefined) return null;
    let head: Head | undefined;
    for (let k = 0; k < heads.length; k++) {
      const h = heads[k];
      if (start + h.text.length <= to && h.text.isAt(view, start)) {
        head = h;
        break;
      }
    }
    if (head === undefined) return null;
    this.headMissed = false;
    const stamp = start + head.text.length;
    let colon = stamp;
    // Lines close in time share the first 8 bytes of their timestamp: read at once when they do.
    const sameStart = stamp + 8 < to && view.getFloat64(stamp, true) === this.stampStart;
    if (sameStart) colon += 8;
    let c = bytes[colon];
    while ((c >= 48 && c <= 57) || c === 46 /* . */) c = bytes[++colon];
    if (c !== 58 /* : */ || bytes[colon + 1] !== 32) return null;
    if (!sameStart && colon - stamp >= 8) this.stampStart = view.getFloat64(stamp, true);
    const body = colon + 2;
    if (body + 8 > to) return null;
    const tails = this.tails.startingAt(view, body);
    if (tails === undefined) return null;
    for (let k = 0; k < tails.length; k++) {
      const tail = tails[k];
      const end = body + (tail.packed as PackedText).length;
      if (end >= to || !(tail.packed as PackedText).isAt(view, body)) continue;
      // The line break, or a CR and the line break (the CR is no part of the line).
      const after = bytes[end];
      if (after === 10) this.next = end + 1;
      else if (after === 13 && bytes[end + 1] === 10) this.next = end + 2;
      else continue;
      this.context = head.context;
      return tail;
    }
    return null;
  }

  /**
   * Keeps the head of the line bytes[start, end) when the line has the shape match() reads: not a
   * header, note or stack line, then `] ` (the first), its flags and spaces, a timestamp of digits
   * and dots and the first `: ` after the `] `. `bracket` and `colon` are those the general reading
   * found, -1 when absent.
   */
  learn(bytes: Uint8Array, start: number, end: number, bracket: number, colon: number): void {
    if (this.headCount >= MAX_HEADS || colon < 0) return;
    const c = bytes[start];
    if (c === 35 /* # */ || c === 67 /* C */ || (c === 32 && bytes[start + 1] === 61) /* ` =` */) return;
    let stamp = colon;
    while (stamp - 1 > bracket + 1 && isTimestampByte(bytes[stamp - 1])) stamp--;
    if (bytes[stamp - 1] !== 32 || stamp - start < MIN_HEAD) return;
    const text = PackedText.of(bytes, start, stamp);
    if (text === null) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bucket = bucketOf(view, start + 12);
    const heads = this.heads[bucket] ?? [];
    heads.push({ text, context: contextOfBytes(bytes, start, bracket, end) });
    this.heads[bucket] = heads;
    this.headCount++;
  }
}

function isTimestampByte(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46;
}
