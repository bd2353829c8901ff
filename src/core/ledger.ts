// The counts of one tracked pair as the analysis reads a trace: per call site, per cycle, and
// the objects still live (per-object pairing).
import type { BadFree, PairingMethod } from './model.js';
import type { Resolved } from './module-map.js';

export const ALLOC = 0;
export const FREE = 1;
export type Role = typeof ALLOC | typeof FREE;

/** Counts of one call site; `cum` is its running outstanding. */
export class CallerAcc {
  allocs = 0;
  frees = 0;
  cum = 0;
  readonly allocsIn: number[] = [];
  readonly freesIn: number[] = [];
  /** Cumulative outstanding when each cycle ended. */
  readonly after: number[] = [];
  constructor(
    readonly caller: string,
    readonly inModule: boolean | null,
  ) {}

  alloc(cycle: number): void {
    this.allocs++;
    this.cum++;
    this.allocsIn[cycle] = (this.allocsIn[cycle] ?? 0) + 1;
  }

  free(cycle: number): void {
    this.frees++;
    this.cum--;
    this.freesIn[cycle] = (this.freesIn[cycle] ?? 0) + 1;
  }
}

export interface LiveObject {
  acc: CallerAcc;
  cycle: number;
  address: string;
  stack?: string[];
  /** kmem: the slab cache it came from ('' when unknown). */
  cache: string;
  /** kmem: bytes_alloc; undefined when the event does not say. */
  bytes?: number;
  /** The allocator that returned it. */
  fn: string;
}

/** One way of counting a pair: call counting (function tracer) or per-object pairing. */
export class Ledger {
  readonly callers = new Map<string, CallerAcc>();
  events = 0;
  allocs = 0;
  unmatchedFrees = 0;
  /** Allocations attributed outside the module that came with no stack to look through. */
  outsideWithoutStack = 0;
  /** One of those call sites, named in the hint. */
  outsideExample = '';
  readonly live = new Map<string, LiveObject>();
  /** Objects whose address was allocated again before any free was seen. */
  readonly shadowed: LiveObject[] = [];
  method: PairingMethod = 'function';
  /** kmem: allocations of the module per slab cache. */
  readonly cacheAllocs = new Map<string, number>();
  /** kmem: allocations by call sites outside the module, left out. */
  ignored = 0;
  /** kmem: the module's objects released and not allocated again since: address -> who allocated and who freed it. */
  readonly freed = new Map<string, { allocatedBy: string; freedBy: string }>();
  /** kmem: live objects allocated outside the module (a module may free what the kernel hands it). */
  readonly outsideLive = new Set<string>();
  /** outsideLive outgrew its bound: frees of addresses never seen allocated are no longer judged. */
  outsideOverflow = false;
  readonly badFrees: BadFree[] = [];

  acc(r: Resolved): CallerAcc {
    let a = this.callers.get(r.caller);
    if (a === undefined) {
      a = new CallerAcc(r.caller, r.inModule);
      this.callers.set(r.caller, a);
    }
    return a;
  }
}
