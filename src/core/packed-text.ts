// A short text compared with bytes in place, eight bytes at a time: the beginnings and ends of
// function-tracer lines seen before are compared this way with millions of lines.

/**
 * A text of at least 8 bytes (latin1) as the little-endian doubles of its 8-byte words, the last
 * word overlapping the one before when the length is no multiple of 8. Two doubles are equal
 * exactly when their bytes are, unless one reads as NaN or zero: texts with such a word (bytes
 * trace text does not hold) are not packed.
 */
export class PackedText {
  private constructor(
    readonly length: number,
    private readonly words: Float64Array,
  ) {}

  /** The text of bytes[start, end), else null when shorter than 8 bytes or not comparable as doubles. */
  static of(bytes: Uint8Array, start: number, end: number): PackedText | null {
    const length = end - start;
    if (length < 8) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, length);
    const words = new Float64Array(Math.ceil(length / 8));
    for (let k = 0; k < words.length; k++) {
      const word = view.getFloat64(Math.min(k * 8, length - 8), true);
      if (Number.isNaN(word) || word === 0) return null;
      words[k] = word;
    }
    return new PackedText(length, words);
  }

  /** Whether the viewed bytes at `at` start with this text; the caller makes sure they are there. */
  isAt(view: DataView<ArrayBufferLike>, at: number): boolean {
    const words = this.words;
    const last = words.length - 1;
    // The last word first: texts that share a beginning (one function, two callers) differ there.
    if (view.getFloat64(at + this.length - 8, true) !== words[last]) return false;
    for (let k = 0; k < last; k++) if (view.getFloat64(at + k * 8, true) !== words[k]) return false;
    return true;
  }
}

/** One of 256 buckets for the 4 bytes at `at`. */
export function bucketOf(view: DataView<ArrayBufferLike>, at: number): number {
  return Math.imul(view.getInt32(at, true), 0x9e3779b1) >>> 24;
}
