// Which event a `<stack trace>` block belongs to. The kernel writes the stack as its own event
// after the one that triggered it, and other lines come in between: other CPUs' events (the
// trace merges the per-CPU buffers by time) and, on the same CPU, the events of an interrupt or
// softirq that ran between the two writes. The stack's own line names its CPU and context (the
// hardirq/softirq flag), so it belongs to the last event awaiting one on that CPU at that level.
import type { BadFree, PairingMethod } from './model.js';
import type { Tail, TracedFunction } from './traced-functions.js';

export const COUNT = 1;
export const ALLOC_OBJECT = 2;
export const FREE_OBJECT = 3;
/** A bad free, already counted, that waits only for its stack. */
export const STACK_ONLY = 4;
type PendingKind = typeof COUNT | typeof ALLOC_OBJECT | typeof FREE_OBJECT | typeof STACK_ONLY;

/** A tracked event read from the trace and not yet counted: it may still receive its stack. */
export class PendingEvent {
  kind: PendingKind = COUNT;
  traced: TracedFunction[] = [];
  caller = '';
  tail: Tail | null = null;
  address = '';
  cycle = 0;
  method: PairingMethod = 'function';
  cache = '';
  /** kmem: bytes_alloc, the size the allocator gave it; undefined when not printed (kprobe pairs). */
  bytes: number | undefined = undefined;
  /** STACK_ONLY: the bad free its stack goes to. */
  badFree: BadFree | null = null;
  readonly frames: string[] = [];
  /** lineContext() of the event's line. */
  context = 0;
}

const LEVEL = new Uint8Array(128);
LEVEL[115 /* s */] = 1;
LEVEL[104 /* h */] = 2;
LEVEL[72 /* H */] = 3;
LEVEL[122 /* z */] = 4;
LEVEL[90 /* Z */] = 5;

/**
 * CPU and interrupt level of the line text[start, end) as one number, (cpu + 1) * 8 + level:
 * level 0 is task context, then softirq, hardirq, hardirq in softirq, NMI. A line without
 * `[cpu]` gives 0; without the flags column (irq-info off), level 0.
 */
export function lineContext(text: string, start: number, end: number): number {
  const bracket = text.indexOf('] ', start);
  if (bracket < 0 || bracket >= end) return 0;
  let i = bracket - 1;
  let cpu = 0;
  let scale = 1;
  while (i > start) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    cpu += (c - 48) * scale;
    scale *= 10;
    i--;
  }
  if (scale === 1 || text.charCodeAt(i) !== 91 /* [ */) return 0;
  let f = bracket + 2;
  while (text.charCodeAt(f) === 32) f++;
  // `d..2.` (or `d..2` before 5.x): the third character is the context. Without the column the
  // next token is the timestamp, ending in a colon.
  const space = text.indexOf(' ', f);
  let level = 0;
  if (space > f + 2 && space <= end && text.charCodeAt(space - 1) !== 58 /* : */) {
    const c = text.charCodeAt(f + 2);
    level = c < 128 ? LEVEL[c] : 0;
  }
  return (cpu + 1) * 8 + level;
}

/** lineContext() of the line bytes[start, end), read in place, whose first `] ` is at `bracket`. */
export function contextOfBytes(bytes: Uint8Array, start: number, bracket: number, end: number): number {
  let i = bracket - 1;
  let cpu = 0;
  let scale = 1;
  while (i > start) {
    const c = bytes[i];
    if (c < 48 || c > 57) break;
    cpu += (c - 48) * scale;
    scale *= 10;
    i--;
  }
  if (scale === 1 || bytes[i] !== 91 /* [ */) return 0;
  let f = bracket + 2;
  while (f < end && bytes[f] === 32) f++;
  let space = f;
  while (space < end && bytes[space] !== 32) space++;
  let level = 0;
  if (space > f + 2 && space < end && bytes[space - 1] !== 58 /* : */) {
    const c = bytes[f + 2];
    level = c < 128 ? LEVEL[c] : 0;
  }
  return (cpu + 1) * 8 + level;
}

/**
 * The events that may still receive a stack: at most one per CPU and interrupt level, in a slot
 * indexed by lineContext(), with a bit per level set for each CPU.
 */
export class AwaitingStacks {
  private readonly slots: (PendingEvent | undefined)[] = [];
  private readonly levels: number[] = [];
  /** Object address -> slot, of the awaiting allocations. */
  private readonly allocations = new Map<string, number>();
  size = 0;

  /** Call passed() for the event's context first: its slot is free then. */
  add(p: PendingEvent): void {
    const cpu = p.context >> 3;
    this.slots[p.context] = p;
    this.levels[cpu] = (this.levels[cpu] ?? 0) | (1 << (p.context & 7));
    if (p.kind === ALLOC_OBJECT) this.allocations.set(p.address, p.context);
    this.size++;
  }

  private take(context: number): PendingEvent {
    const p = this.slots[context] as PendingEvent;
    this.slots[context] = undefined;
    this.levels[context >> 3] &= ~(1 << (context & 7));
    if (p.kind === ALLOC_OBJECT && this.allocations.get(p.address) === context) this.allocations.delete(p.address);
    this.size--;
    return p;
  }

  /** The events at this CPU's levels from `level` up, deepest first: they will get no stack. */
  private finishFrom(cpu: number, level: number, done: (p: PendingEvent) => void): void {
    let bits = ((this.levels[cpu] ?? 0) >> level) << level;
    while (bits !== 0) {
      const l = 31 - Math.clz32(bits);
      bits &= ~(1 << l);
      done(this.take(cpu * 8 + l));
    }
  }

  /**
   * The event awaiting at this context when none awaits deeper on its CPU: the next line there
   * finishes it alone, so it may be counted and reused in its slot.
   */
  aloneAt(context: number): PendingEvent | undefined {
    if (this.size === 0) return undefined;
    return (this.levels[context >> 3] ?? 0) >> (context & 7) === 1 ? this.slots[context] : undefined;
  }

  /** A line other than a stack: the events on its CPU at its level or deeper get none. */
  passed(context: number, done: (p: PendingEvent) => void): void {
    if (this.size === 0) return;
    const cpu = context >> 3;
    if ((this.levels[cpu] ?? 0) >> (context & 7) === 0) return;
    this.finishFrom(cpu, context & 7, done);
  }

  /** The event a `<stack trace>` at this context belongs to, taken out; deeper ones are done. */
  owner(context: number, done: (p: PendingEvent) => void): PendingEvent | undefined {
    if (this.size === 0) return undefined;
    const cpu = context >> 3;
    const level = context & 7;
    this.finishFrom(cpu, level + 1, done);
    return this.slots[context] === undefined ? undefined : this.take(context);
  }

  /**
   * Before a release of `address` is counted: an allocation of it still awaiting its stack
   * (on a CPU that has printed nothing since) is counted first.
   */
  settleAddress(address: string, done: (p: PendingEvent) => void): void {
    const context = this.allocations.get(address);
    if (context !== undefined) done(this.take(context));
  }

  /** Every awaiting event, done as it is: at a cycle marker and at the end of the trace. */
  drain(done: (p: PendingEvent) => void): void {
    if (this.size === 0) return;
    for (let c = 0; c < this.slots.length; c++) if (this.slots[c] !== undefined) done(this.take(c));
  }
}
