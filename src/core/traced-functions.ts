// What the analyzer matches trace lines against: the tracked pairs, the functions and events
// that allocate or release in each, and the function-tracer line ends seen before.
import type { PairSpec } from './model.js';
import type { CallerAcc, Ledger, Role } from './ledger.js';

export interface PairState {
  spec: PairSpec;
  fn: Ledger;
  addr: Ledger;
  /** Allocations outside the module are not kept (kmem pairs, families found by track: auto). */
  moduleOnly: boolean;
}

export interface TracedFunction {
  pair: PairState;
  role: Role;
  /** The traced function (or kmem event) this entry stands for. */
  fn: string;
}

/**
 * The end of a function-tracer line, `func <-caller`, seen before: the same few texts repeat
 * millions of times, so a line's bytes are compared with them whole instead of being taken apart.
 */
export interface Tail {
  text: string;
  /** null: an untracked function. */
  traced: TracedFunction[] | null;
  caller: string;
  /** Counter per traced function, once known (attribution without a stack depends on the caller only). */
  accs: (CallerAcc | undefined)[];
}

const MAX_TAILS = 64;

/** The tails seen so far, looked up by length and compared four bytes at a time. */
export class KnownTails {
  private readonly byLength: (KnownTail[] | undefined)[] = [];
  private count = 0;
  /** A view of the last bytes matched: four-byte reads of the buffer that holds the line. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewed: Uint8Array | null = null;

  get full(): boolean {
    return this.count >= MAX_TAILS;
  }

  add(text: string, traced: TracedFunction[] | null, caller: string): Tail {
    const tail = new KnownTail(text, traced, caller);
    const same = this.byLength[text.length];
    if (same === undefined) this.byLength[text.length] = [tail];
    else same.push(tail);
    this.count++;
    return tail;
  }

  /** The tail that bytes[body, end) is, else null. */
  match(bytes: Uint8Array, body: number, end: number): Tail | null {
    const same = this.byLength[end - body];
    if (same === undefined) return null;
    if (bytes !== this.viewed) {
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.viewed = bytes;
    }
    for (let k = 0; k < same.length; k++) if (same[k].isAt(this.view, bytes, body)) return same[k];
    return null;
  }
}

class KnownTail implements Tail {
  readonly accs: (CallerAcc | undefined)[] = [];
  /** The text's bytes (latin1) as little-endian 32-bit words, then the bytes left over. */
  private readonly words: Int32Array;
  private readonly rest: Uint8Array;

  constructor(
    readonly text: string,
    readonly traced: TracedFunction[] | null,
    readonly caller: string,
  ) {
    const bytes = Buffer.from(text, 'latin1');
    const whole = bytes.length >> 2;
    this.words = new Int32Array(whole);
    for (let k = 0; k < whole; k++) this.words[k] = bytes.readInt32LE(k * 4);
    this.rest = bytes.subarray(whole * 4);
  }

  isAt(view: DataView<ArrayBufferLike>, bytes: Uint8Array, at: number): boolean {
    const words = this.words;
    for (let k = 0; k < words.length; k++) if (view.getInt32(at + k * 4, true) !== words[k]) return false;
    const from = at + words.length * 4;
    for (let k = 0; k < this.rest.length; k++) if (bytes[from + k] !== this.rest[k]) return false;
    return true;
  }
}

/** A flat copy of a string cut from a chunk: a slice would keep the whole chunk alive. */
export function ownCopy(s: string): string {
  const key: Record<string, true> = { [s]: true };
  return Object.keys(key)[0];
}
