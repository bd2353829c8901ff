// What the analyzer matches trace lines against: the tracked pairs, the functions and events
// that allocate or release in each, and the function-tracer line ends seen before.
import type { PairSpec } from './model.js';
import type { CallerAcc, Ledger, Role } from './ledger.js';
import { bucketOf, PackedText } from './packed-text.js';

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

/**
 * The tails seen so far, looked up by length (the line's end known) or by their first 4 bytes
 * (the line's end still to be found: see KnownLines), and compared in place.
 */
export class KnownTails {
  private readonly byLength: (KnownTail[] | undefined)[] = [];
  private readonly byStart: (KnownTail[] | undefined)[] = [];
  private count = 0;
  /** A view of the last bytes matched by length. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewed: Uint8Array | null = null;

  get full(): boolean {
    return this.count >= MAX_TAILS;
  }

  add(text: string, traced: TracedFunction[] | null, caller: string): Tail {
    const tail = new KnownTail(text, traced, caller);
    addTo(this.byLength, text.length, tail);
    // A tail ending in a CR is one of a line ending in two: where the line ends is then not where
    // the tail does (the CR before the line break is no part of the line).
    if (tail.packed !== null && !text.endsWith('\r')) addTo(this.byStart, bucketOf(viewOf(tail.bytes), 0), tail);
    this.count++;
    return tail;
  }

  /** The tail that bytes[body, end) is, else null. */
  match(bytes: Uint8Array, body: number, end: number): Tail | null {
    const same = this.byLength[end - body];
    if (same === undefined) return null;
    if (bytes !== this.viewed) {
      this.view = viewOf(bytes);
      this.viewed = bytes;
    }
    for (let k = 0; k < same.length; k++) if (same[k].isAt(this.view, bytes, body)) return same[k];
    return null;
  }

  /** The tails of 8 bytes or more that may start at `body` (its first 4 bytes viewed). */
  startingAt(view: DataView<ArrayBufferLike>, body: number): KnownTail[] | undefined {
    return this.byStart[bucketOf(view, body)];
  }
}

function viewOf(bytes: Uint8Array): DataView<ArrayBufferLike> {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function addTo<T>(index: (T[] | undefined)[], key: number, item: T): void {
  const same = index[key];
  if (same === undefined) index[key] = [item];
  else same.push(item);
}

export class KnownTail implements Tail {
  readonly accs: (CallerAcc | undefined)[] = [];
  /** The text compared eight bytes at a time; null when shorter than 8 bytes, compared byte by byte. */
  readonly packed: PackedText | null;
  readonly bytes: Uint8Array;

  constructor(
    readonly text: string,
    readonly traced: TracedFunction[] | null,
    readonly caller: string,
  ) {
    this.bytes = Buffer.from(text, 'latin1');
    this.packed = PackedText.of(this.bytes, 0, this.bytes.length);
  }

  isAt(view: DataView<ArrayBufferLike>, bytes: Uint8Array, at: number): boolean {
    if (this.packed !== null) return this.packed.isAt(view, at);
    for (let k = 0; k < this.bytes.length; k++) if (bytes[at + k] !== this.bytes[k]) return false;
    return true;
  }
}

/** A flat copy of a string cut from a chunk: a slice would keep the whole chunk alive. */
export function ownCopy(s: string): string {
  const key: Record<string, true> = { [s]: true };
  return Object.keys(key)[0];
}
