// Counts and pairs allocations and frees from trace text, one line at a time. Reads every
// shape the kernel prints (function tracer, kprobe/kretprobe events, kmem tracepoints, stack
// blocks, markers, lost-event notes); what it keeps grows with call sites, cycles and live
// objects only, never with the length of the trace.
import type { AnalysisResult, CallerCounts, CycleCounts, OutstandingObject, PairResult, PairSpec, PairingMethod } from './model.js';
import { pairName } from './pair-spec.js';
import { allocatorsOf, isKmemPair, releasersOf } from './allocator-families.js';
import { ALLOC, type CallerAcc, FREE, Ledger, type Role } from './ledger.js';
import { DEFERRED_FREE, deferredObject, parseMarker } from './trace-protocol.js';
import { isRawAddress, isTracingFrame, normalizeAddress, parseFrame, skipAddressSuffix } from './frames.js';
import { kmallocCache } from './slab-caches.js';
import type { ProbeCount } from './kprobe-profile.js';
import { ModuleMap, type Resolved } from './module-map.js';
import { leakRate } from './leak-rate.js';
import type { BufferStats } from './buffer-stats.js';

export interface AnalyzerOptions {
  pairs: PairSpec[];
  /** Module under test; without it every call site is "unknown" and counts for the module. */
  moduleMap?: ModuleMap;
  /** Frames kept per outstanding object. */
  maxStackFrames?: number;
  /** Outstanding objects listed in the result (module call sites first). */
  maxObjects?: number;
}

interface PairState {
  spec: PairSpec;
  fn: Ledger;
  addr: Ledger;
  /** Allocations outside the module are not kept (kmem pairs, families found by track: auto). */
  moduleOnly: boolean;
}

/**
 * The end of a function-tracer line, `func <-caller`, seen before: the same few texts repeat
 * millions of times, so a line is matched against them whole instead of being taken apart.
 */
interface Tail {
  text: string;
  /** `text` as a sticky literal: V8 matches it in place several times faster than startsWith. */
  re: RegExp;
  /** null: an untracked function. */
  targets: Target[] | null;
  caller: string;
  /** Counter per target, once known (attribution without a stack depends on the caller only). */
  accs: (CallerAcc | undefined)[];
}

const MAX_TAILS = 64;

/** A flat copy of a string cut from a chunk: a slice would keep the whole chunk alive. */
function ownCopy(s: string): string {
  const key: Record<string, true> = { [s]: true };
  return Object.keys(key)[0];
}

interface Target {
  pair: PairState;
  role: Role;
  /** The traced function (or kmem event) this target stands for. */
  fn: string;
}

const NO_PENDING = 0;
const PENDING_COUNT = 1;
const PENDING_ALLOC_OBJECT = 2;
const PENDING_FREE_OBJECT = 3;

export class TraceAnalyzer {
  private readonly pairs: PairState[];
  /** Function name -> pairs it allocates or frees in (function tracer lines and kprobe probes). */
  private readonly functions = new Map<string, Target[]>();
  /** The same names as an array, matched in place on the hot path. */
  private readonly functionNames: string[] = [];
  private readonly functionTargets: Target[][] = [];
  /** kmem-style event name (`kmalloc`, `kfree`, `kmem_cache_alloc`...) -> targets. */
  private readonly kmemEvents = new Map<string, Target[]>();
  private readonly map: ModuleMap;
  private readonly maxStackFrames: number;
  private readonly maxObjects: number;

  recognizedLines = 0;
  private headerLost = 0;
  private markerLost = 0;
  private statsLost = 0;
  private probeMisses = 0;
  private readonly problems: string[] = [];

  private cycle = 0;
  private starts = 0;
  private inCycle = false;
  private missingEnds = 0;
  private strayEnds = 0;

  private pendingKind = NO_PENDING;
  private pendingTargets: Target[] = [];
  private pendingCaller = '';
  /** Function-tracer events keep the line and where the caller starts; cut only when needed. */
  private pendingLine = '';
  private pendingLineStart = 0;
  private pendingTail: Tail | null = null;
  private readonly tails: Tail[] = [];
  private pendingAddress = '';
  private pendingCycle = 0;
  private pendingMethod: PairingMethod = 'function';
  private pendingCache = '';
  private stackOpen = false;
  private readonly frames: string[] = [];

  constructor(options: AnalyzerOptions) {
    if (options.pairs.length === 0) throw new Error('no pair to track');
    this.map = options.moduleMap ?? new ModuleMap('');
    this.maxStackFrames = options.maxStackFrames ?? 16;
    this.maxObjects = options.maxObjects ?? 1000;
    this.pairs = options.pairs.map((spec) => ({ spec, fn: new Ledger(), addr: new Ledger(), moduleOnly: spec.auto === true && this.map.module !== '' }));
    for (const pair of this.pairs) {
      for (const fn of allocatorsOf(pair.spec)) {
        this.addTarget(this.functions, fn, { pair, role: ALLOC, fn });
        this.addTarget(this.kmemEvents, fn, { pair, role: ALLOC, fn });
        this.addTarget(this.kmemEvents, `${fn}_node`, { pair, role: ALLOC, fn });
      }
      for (const fn of releasersOf(pair.spec)) {
        this.addTarget(this.functions, fn, { pair, role: FREE, fn });
        this.addTarget(this.kmemEvents, fn, { pair, role: FREE, fn });
      }
      if (isKmemPair(pair.spec)) this.addTarget(this.functions, DEFERRED_FREE, { pair, role: FREE, fn: DEFERRED_FREE });
    }
    for (const [name, targets] of this.functions) {
      this.functionNames.push(name);
      this.functionTargets.push(targets);
    }
  }

  private addTarget(map: Map<string, Target[]>, name: string, t: Target): void {
    const list = map.get(name) ?? [];
    list.push(t);
    map.set(name, list);
  }

  /** Lost-event counts from per_cpu/cpuN/stats read at the end of the run. */
  addBufferStats(stats: BufferStats): void {
    this.statsLost += stats.lost;
  }

  /**
   * kprobe_profile counts of the run's probes (events `aN`/`fN` of pair N): every miss is an
   * allocation or release the trace does not hold.
   */
  addProbeCounts(counts: ProbeCount[]): void {
    for (const c of counts) {
      if (c.misses <= 0) continue;
      this.probeMisses += c.misses;
      const spec = c.pair >= 0 && c.pair < this.pairs.length ? this.pairs[c.pair].spec : null;
      const fn = spec === null ? undefined : (c.role === 'alloc' ? allocatorsOf(spec) : releasersOf(spec))[c.index];
      const what = fn === undefined ? `probe ${c.event}` : c.role === 'alloc' ? `the return probe on ${fn}` : `the probe on ${fn}`;
      const why =
        c.role === 'alloc'
          ? 'more calls were in flight at once than the probe has kretprobe instances (maxactive): raise maxactive'
          : 'the probe fired while another probe handler ran';
      this.problems.push(
        `${spec === null ? c.event : pairName(spec)}: ${what} missed ${c.misses} of ${c.hits + c.misses} hits (kprobe_profile): ${why}; those ${c.role === 'free' ? 'releases' : 'allocations'} are not in the trace`,
      );
    }
  }

  /**
   * Feeds the line text[start, end) without cutting it out: function-tracer lines, nearly all
   * of a trace, are counted in place; anything else goes through `push`.
   */
  pushRange(text: string, start: number, end: number): void {
    const c = text.charCodeAt(start);
    if (c === 35 /* # */ || c === 67 /* C */ || (c === 32 && text.charCodeAt(start + 1) === 61)) {
      this.push(text.slice(start, end));
      return;
    }
    const colon = text.indexOf(': ', start);
    if (colon >= 0 && colon < end) {
      const body = colon + 2;
      const n = end - body;
      const tails = this.tails;
      for (let k = 0; k < tails.length; k++) {
        const tail = tails[k];
        if (tail.text.length !== n) continue;
        tail.re.lastIndex = body;
        if (tail.re.test(text)) {
          this.recognizedLines++;
          this.stackOpen = false;
          if (this.pendingKind !== NO_PENDING) this.flush();
          if (tail.targets === null) return;
          this.pendingKind = PENDING_COUNT;
          this.pendingTargets = tail.targets;
          this.pendingTail = tail;
          this.pendingLine = text;
          this.pendingLineStart = start;
          this.pendingCaller = tail.caller;
          this.pendingCycle = this.cycle;
          if (this.frames.length > 0) this.frames.length = 0;
          return;
        }
      }
    }
    this.pushNewTail(text, start, end);
  }

  /** A line whose tail is not known yet: parsed in full, its tail remembered when it is a function line. */
  private pushNewTail(text: string, start: number, end: number): void {
    const bracket = text.indexOf('] ', start);
    const colon = bracket < 0 || bracket >= end ? -1 : text.indexOf(': ', bracket);
    const space = colon < 0 || colon >= end ? -1 : text.indexOf(' ', colon + 2);
    // `func <-caller`, or with sym-addr `func <ffffffff817d82f0> <-caller <ffffffffc0248292>`.
    const arrow = space < 0 ? -1 : skipAddressSuffix(text, space);
    if (
      space < 0 ||
      arrow + 2 >= end ||
      text.charCodeAt(arrow + 1) !== 60 /* < */ ||
      text.charCodeAt(arrow + 2) !== 45 /* - */ ||
      text.charCodeAt(space - 1) === 58
    ) {
      this.push(text.slice(start, end));
      return;
    }
    const body = colon + 2;
    let plus = body;
    while (plus < space && text.charCodeAt(plus) !== 43 /* + */) plus++;
    const func = text.slice(body, plus);
    const targets = this.functions.get(func) ?? null;
    if (plus < space && targets !== null) {
      // A tracked function printed with an offset (sym-offset): the general path, not remembered.
      this.push(text.slice(start, end));
      return;
    }
    let callerEnd = end;
    while (callerEnd > arrow + 3 && text.charCodeAt(callerEnd - 1) <= 32) callerEnd--;
    let tail: Tail | null = null;
    if (this.tails.length < MAX_TAILS) {
      const tailText = text.slice(body, end);
      tail = {
        text: tailText,
        re: new RegExp(tailText.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'y'),
        targets,
        caller: ownCopy(text.slice(arrow + 3, callerEnd)),
        accs: [],
      };
      this.tails.push(tail);
    }
    this.recognizedLines++;
    this.stackOpen = false;
    if (this.pendingKind !== NO_PENDING) this.flush();
    if (targets === null) return;
    this.pendingKind = PENDING_COUNT;
    this.pendingTargets = targets;
    this.pendingTail = tail;
    this.pendingLine = text;
    this.pendingLineStart = start;
    this.pendingCaller = tail !== null ? tail.caller : text.slice(arrow + 3, callerEnd);
    this.pendingCycle = this.cycle;
    if (this.frames.length > 0) this.frames.length = 0;
  }

  /** Feeds one line of trace text (without its line break). */
  push(line: string): void {
    const c = line.charCodeAt(0);
    // ` => frame` lines of a <stack trace> block.
    if (c === 32 && line.charCodeAt(1) === 61 /* = */ && line.charCodeAt(2) === 62 /* > */) {
      this.recognizedLines++;
      if (this.stackOpen && this.frames.length < 64) {
        const frame = line.slice(4).trim();
        // kretprobe/rethook/ftrace handlers that record the stack: not the allocation's path.
        if (!isTracingFrame(frame)) this.frames.push(frame);
      }
      return;
    }
    this.stackOpen = false;
    if (c === 35 /* # */) {
      this.header(line);
      return;
    }
    if (c === 67 /* C */ && line.startsWith('CPU:')) {
      this.lostNote(line);
      return;
    }
    const bracket = line.indexOf('] ');
    const colon = bracket < 0 ? -1 : line.indexOf(': ', bracket);
    if (colon < 0) {
      const text = line.trim();
      if (text.startsWith('alloc-balance ')) this.marker(text);
      return;
    }
    const body = colon + 2;
    const space = line.indexOf(' ', body);
    if (space < 0) return;
    if (line.charCodeAt(space - 1) === 58 /* : */) {
      this.recognizedLines++;
      this.event(line, line.slice(body, space - 1), space + 1);
      return;
    }
    const arrow = skipAddressSuffix(line, space);
    // With sym-addr, trace_marker lines read `tracing_mark_write <ffffffff811c36bd>: text`.
    if (arrow > space && line.charCodeAt(arrow) === 58 /* : */) {
      this.recognizedLines++;
      this.event(line, line.slice(body, space), arrow + 2);
      return;
    }
    if (line.charCodeAt(body) === 60 /* < */ && line.startsWith('<stack trace>', body)) {
      this.recognizedLines++;
      this.stackOpen =
        this.pendingKind !== NO_PENDING && this.cpuOf(line, bracket) === this.cpuOf(this.pendingLine, this.pendingLine.indexOf('] ', this.pendingLineStart));
      return;
    }
    if (line.charCodeAt(arrow + 1) !== 60 /* < */ || line.charCodeAt(arrow + 2) !== 45 /* - */) return;
    this.recognizedLines++;
    if (this.pendingKind !== NO_PENDING) this.flush();
    let func = line.slice(body, space);
    let targets = this.functions.get(func);
    if (targets === undefined) {
      const plus = func.indexOf('+');
      if (plus < 0) return;
      func = func.slice(0, plus);
      targets = this.functions.get(func);
      if (targets === undefined) return;
    }
    this.pendingKind = PENDING_COUNT;
    this.pendingTargets = targets;
    this.pendingTail = null;
    this.pendingLine = line;
    this.pendingLineStart = 0;
    this.pendingCaller = line.slice(arrow + 3).trim();
    this.pendingCycle = this.cycle;
    if (this.frames.length > 0) this.frames.length = 0;
  }

  private cpuOf(line: string, bracket: number): string {
    return line.slice(line.lastIndexOf('[', bracket) + 1, bracket);
  }

  private header(line: string): void {
    const at = line.indexOf('entries-in-buffer/entries-written:');
    if (at < 0) return;
    this.recognizedLines++;
    const m = /(\d+)\/(\d+)/.exec(line.slice(at + 34));
    if (m && Number(m[2]) > Number(m[1])) this.headerLost += Number(m[2]) - Number(m[1]);
  }

  private lostNote(line: string): void {
    const m = /\[LOST (\d+) EVENTS\]/.exec(line);
    if (!m) return;
    this.recognizedLines++;
    if (this.pendingKind !== NO_PENDING) this.flush();
    this.markerLost += Number(m[1]);
  }

  private event(line: string, name: string, args: number): void {
    if (this.pendingKind !== NO_PENDING) this.flush();
    if (name === 'tracing_mark_write') {
      this.marker(line.slice(args));
      return;
    }
    if (line.charCodeAt(args) === 40 /* ( */) {
      this.probe(line, args);
      return;
    }
    const targets = this.kmemEvents.get(name);
    if (targets === undefined) return;
    const cs = line.indexOf('call_site=', args);
    const ptrAt = line.indexOf(' ptr=', args);
    if (cs < 0 || ptrAt < 0) return;
    const ptrEnd = line.indexOf(' ', ptrAt + 5);
    const address = this.addressValue(line.slice(ptrAt + 5, ptrEnd < 0 ? undefined : ptrEnd));
    const callSite = cs < ptrAt ? line.slice(cs + 10, ptrAt) : line.slice(cs + 10, line.indexOf(' ', cs) < 0 ? undefined : line.indexOf(' ', cs));
    this.pendObject(targets, line, address, callSite.trim(), 'kmem');
    if (this.pendingKind === PENDING_ALLOC_OBJECT) this.pendingCache = this.kmemCache(line, ptrAt);
  }

  /** `bytes_alloc=64 ... accounted=true` -> `kmalloc-cg-64`; '' when not printed or no kmalloc size. */
  private kmemCache(line: string, from: number): string {
    const at = line.indexOf(' bytes_alloc=', from);
    if (at < 0) return '';
    const end = line.indexOf(' ', at + 13);
    const bytes = Number(line.slice(at + 13, end < 0 ? undefined : end));
    return Number.isInteger(bytes) ? kmallocCache(bytes, line.includes(' accounted=true', at)) : '';
  }

  /** `(callsite <- func) ret=0x..` (return probe) or `(func+0x0/0x1e0) dev=0x..` (entry probe). */
  private probe(line: string, args: number): void {
    const close = line.indexOf(')', args);
    if (close < 0) return;
    const inner = line.slice(args + 1, close);
    const arrow = inner.indexOf(' <- ');
    const isReturn = arrow >= 0;
    // `<- alloc_netdev_mqs`, with sym-addr `<- alloc_netdev_mqs <ffffffff817d82f0>`.
    const func = parseFrame(isReturn ? inner.slice(arrow + 4) : inner).symbol;
    const all = this.functions.get(func);
    if (all === undefined) return;
    const role = isReturn ? ALLOC : FREE;
    const targets = all.filter((t) => t.role === role);
    if (targets.length === 0) return;
    const rest = line.slice(close + 1);
    if (func === DEFERRED_FREE) {
      this.pendObject(targets, line, this.addressValue(deferredObject(rest)), '', 'kmem');
      return;
    }
    let value = '';
    if (isReturn) {
      const ret = /(?:^|\s)ret=(\S+)/.exec(rest);
      if (ret) value = ret[1];
    }
    if (value === '') {
      const first = /\S+?=(\S+)/.exec(rest);
      if (first) value = first[1];
    }
    this.pendObject(targets, line, this.addressValue(value), isReturn ? inner.slice(0, arrow).trim() : '', 'kprobe');
  }

  /** An object address as `0x...`, '' for NULL or a value that is no address. */
  private addressValue(text: string): string {
    let t = text.trim();
    if (t.startsWith('"')) t = t.slice(1, -1);
    if (/^\d+$/.test(t) && !/^0[0-9]/.test(t)) t = `0x${BigInt(t).toString(16)}`;
    if (!isRawAddress(t) && !(t.startsWith('0x') && t.length > 2)) return '';
    const a = normalizeAddress(t);
    // NULL, or an ERR_PTR (-4095..-1) from an allocator that failed: no object.
    return a === '0x0' || (a.length === 18 && a >= '0xfffffffffffff001') ? '' : a;
  }

  private pendObject(targets: Target[], line: string, address: string, caller: string, method: PairingMethod): void {
    if (address === '') return;
    this.pendingKind = targets[0].role === ALLOC ? PENDING_ALLOC_OBJECT : PENDING_FREE_OBJECT;
    this.pendingTargets = targets;
    this.pendingAddress = address;
    this.pendingCaller = caller;
    this.pendingLine = line;
    this.pendingLineStart = 0;
    this.pendingTail = null;
    this.pendingCycle = this.cycle;
    this.pendingMethod = method;
    this.pendingCache = '';
    if (this.frames.length > 0) this.frames.length = 0;
  }

  /** The call site an event is attributed to: the innermost frame in the module, else the caller. */
  private attribute(skip: string): Resolved {
    const direct = this.pendingCaller === '' ? null : this.map.resolve(this.pendingCaller);
    if (direct !== null && direct.inModule === true) return direct;
    for (const f of this.frames) {
      const r = this.map.resolve(f);
      if (r.inModule === true) return r;
    }
    if (direct !== null) return direct;
    for (const f of this.frames) {
      const r = this.map.resolve(f);
      if (r.inModule !== null || (!f.startsWith('0x') && !f.startsWith(skip))) return r;
    }
    return { caller: '(unknown)', inModule: null };
  }

  private stack(skip: string): string[] | undefined {
    if (this.frames.length === 0) return undefined;
    const out: string[] = [];
    for (let k = 0; k < this.frames.length && out.length < this.maxStackFrames; k++) {
      const r = this.map.resolve(this.frames[k]);
      // The function tracer's stack starts with its trampoline, as hex, then the traced function.
      if (k === 0 && r.inModule !== true && isRawAddress(r.caller) && this.frames.length > 1 && parseFrame(this.frames[1]).symbol === skip) continue;
      if (parseFrame(r.caller).symbol === skip) continue;
      out.push(r.caller);
    }
    return out;
  }

  private flush(): void {
    const kind = this.pendingKind;
    this.pendingKind = NO_PENDING;
    const cycle = this.pendingCycle;
    const targets = this.pendingTargets;
    for (let ti = 0; ti < targets.length; ti++) {
      const t = targets[ti];
      const skip = t.fn;
      if (kind === PENDING_COUNT) {
        const ledger = t.pair.fn;
        ledger.events++;
        const tail = this.pendingTail;
        const noStack = this.frames.length === 0;
        if (noStack && tail !== null) {
          const known = tail.accs[ti];
          if (known !== undefined) {
            if (t.role === ALLOC) {
              known.alloc(cycle);
              ledger.allocs++;
              if (known.inModule === false) ledger.outsideWithoutStack++;
            } else known.free(cycle);
            continue;
          }
        }
        const r = this.attribute(skip);
        if (r.inModule === false && this.frames.length === 0 && t.role === ALLOC) {
          ledger.outsideWithoutStack++;
          ledger.outsideExample ||= r.caller;
        }
        const acc = ledger.acc(r);
        if (noStack && tail !== null) tail.accs[ti] = acc;
        if (t.role === ALLOC) {
          acc.alloc(cycle);
          ledger.allocs++;
        } else acc.free(cycle);
      } else {
        const ledger = t.pair.addr;
        ledger.events++;
        // A kmem pair's probed helpers (kasprintf, kvfree) do not make it a probe pair.
        if (ledger.method !== 'kmem') ledger.method = this.pendingMethod;
        const address = this.pendingAddress;
        if (kind === PENDING_ALLOC_OBJECT) {
          const r = this.attribute(skip);
          // kmem events and the families track: auto found cover the whole kernel: only the
          // module's own call sites are its objects.
          if ((this.pendingMethod === 'kmem' || t.pair.moduleOnly) && r.inModule === false) {
            ledger.ignored++;
            continue;
          }
          if (r.inModule === false && this.frames.length === 0 && this.pendingMethod === 'kprobe') {
            ledger.outsideWithoutStack++;
            ledger.outsideExample ||= r.caller;
          }
          const old = ledger.live.get(address);
          // One allocator of the family inside another (alloc_etherdev_mqs calls alloc_netdev_mqs):
          // the inner returned first, the object is the same.
          if (old !== undefined && old.fn !== t.fn && old.cycle === cycle) continue;
          const acc = ledger.acc(r);
          acc.alloc(cycle);
          ledger.allocs++;
          if (old !== undefined) ledger.shadowed.push(old);
          const cache = this.pendingCache;
          if (cache !== '') ledger.cacheAllocs.set(cache, (ledger.cacheAllocs.get(cache) ?? 0) + 1);
          ledger.live.set(address, { acc, cycle, address, stack: this.stack(skip), cache, fn: t.fn });
        } else {
          const obj = ledger.live.get(address);
          // Every kfree in the kernel is a kmem event: only frees of the module's objects count.
          if (obj === undefined) {
            if ((this.pendingMethod !== 'kmem' && !t.pair.moduleOnly) || this.map.module === '') ledger.unmatchedFrees++;
          } else {
            ledger.live.delete(address);
            obj.acc.free(cycle);
          }
        }
      }
    }
    if (this.frames.length > 0) this.frames.length = 0;
  }

  private marker(text: string): void {
    const m = parseMarker(text);
    if (!m) return;
    this.recognizedLines++;
    if (this.pendingKind !== NO_PENDING) this.flush();
    if ('phase' in m) return; // phase=unload: frees that follow stay in the last cycle's totals
    if (m.edge === 'start') {
      if (this.inCycle) {
        this.missingEnds++;
        this.snapshot(this.cycle);
      } else if (this.cycle === 0) this.snapshot(0);
      this.cycle++;
      this.starts++;
      this.inCycle = true;
    } else if (this.inCycle) {
      this.snapshot(this.cycle);
      this.inCycle = false;
    } else this.strayEnds++;
  }

  private snapshot(cycle: number): void {
    for (const p of this.pairs) {
      for (const ledger of [p.fn, p.addr]) for (const acc of ledger.callers.values()) acc.after[cycle] = acc.cum;
    }
  }

  /** Ends the trace and returns the analysis. */
  finish(): AnalysisResult {
    if (this.pendingKind !== NO_PENDING) this.flush();
    const problems = this.problems;
    const marked = this.starts > 0;
    if (this.inCycle) {
      this.missingEnds++;
      this.snapshot(this.cycle);
    }
    if (!marked) this.snapshot(0);
    const cycles = marked ? this.starts : 1;
    // Without markers the whole trace is the one workload cycle.
    const index = (c: number): number => (marked ? c : 1);
    const cycleIds = marked ? Array.from({ length: cycles + 1 }, (_, k) => k) : [1];
    const sourceOf = (c: number): number => (marked ? c : 0);

    const traceLost = this.headerLost + this.markerLost;
    const bufferLost = Math.max(traceLost, this.statsLost);
    const lostEvents = bufferLost + this.probeMisses;
    if (this.headerLost > 0) problems.push(`the trace buffer overwrote ${this.headerLost} events (entries-in-buffer < entries-written): raise trace-buffer-kb`);
    if (this.markerLost > 0) problems.push(`the trace reports ${this.markerLost} lost events ([LOST n EVENTS]): raise trace-buffer-kb`);
    if (this.statsLost > 0) problems.push(`the per-CPU buffer stats count ${this.statsLost} overrun or dropped events: raise trace-buffer-kb`);
    if (this.missingEnds > 0) problems.push(`${this.missingEnds} cycle(s) started without an end marker: the workload cycle did not finish`);
    if (this.strayEnds > 0) problems.push(`${this.strayEnds} cycle end marker(s) without a start marker`);

    const crossCheck: NonNullable<AnalysisResult['crossCheck']> = [];
    let mismatched = false;
    const pairs: PairResult[] = this.pairs.map((p) => {
      const name = pairName(p.spec);
      const addressPaired = p.addr.events > 0;
      const ledger = addressPaired ? p.addr : p.fn;
      // With several allocators one may call another (alloc_etherdev_mqs, alloc_netdev_mqs): calls outnumber objects.
      if (addressPaired && p.fn.events > 0 && allocatorsOf(p.spec).length === 1) {
        crossCheck.push({ pair: name, kprobeAllocs: p.addr.allocs, functionAllocs: p.fn.allocs, agree: p.addr.allocs === p.fn.allocs });
        if (p.addr.allocs !== p.fn.allocs) {
          problems.push(`${name}: the function tracer counted ${p.fn.allocs} calls of ${p.spec.alloc}, the probes ${p.addr.allocs} allocations`);
        }
      }
      if (ledger.events === 0) problems.push(`${name}: no ${p.spec.alloc} or ${p.spec.free} event in the trace: check that the pair is traced`);
      if (ledger.outsideWithoutStack > 0 && this.map.module !== '') {
        problems.push(
          `${name}: ${ledger.outsideWithoutStack} allocation(s) attributed to call sites outside the module (e.g. ${ledger.outsideExample}) with no stack: if the module reaches them, record stacks to attribute them`,
        );
      }
      const callers = [...ledger.callers.values()];
      const cyclesOf = (accs: CallerAcc[]): CycleCounts[] =>
        cycleIds.map((c) => {
          const s = sourceOf(c);
          let allocs = 0;
          let frees = 0;
          let after = 0;
          for (const a of accs) {
            allocs += a.allocsIn[s] ?? 0;
            frees += a.freesIn[s] ?? 0;
            after += a.after[s] ?? 0;
          }
          return { cycle: index(c), allocs, frees, outstanding: allocs - frees, outstandingAfter: after };
        });
      const sum = (accs: CallerAcc[]) => {
        let allocs = 0;
        let frees = 0;
        for (const a of accs) {
          allocs += a.allocs;
          frees += a.frees;
        }
        return { allocs, frees, outstanding: allocs - frees };
      };
      const moduleAccs = callers.filter((a) => a.inModule !== false);
      const moduleCycles = cyclesOf(moduleAccs);
      const module = sum(moduleAccs);
      if (!addressPaired && module.frees > module.allocs) {
        mismatched = true;
        problems.push(
          `${name}: ${module.frees} call(s) of ${p.spec.free} against ${module.allocs} of ${p.spec.alloc}: more releases than allocations, ` +
            `so ${p.spec.free} does not release what ${p.spec.alloc} allocates (or the trace began after the allocations): check the pair`,
        );
      }
      const total = sum(callers);
      const workload = (cs: CycleCounts[]) => cs.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter);
      const callerRows: CallerCounts[] = callers
        .map((a) => ({
          caller: a.caller,
          inModule: a.inModule,
          allocs: a.allocs,
          frees: a.frees,
          outstanding: a.allocs - a.frees,
          perCycle: cyclesOf([a]),
        }))
        .sort(
          (x, y) =>
            Number(y.inModule === true) - Number(x.inModule === true) ||
            y.outstanding - x.outstanding ||
            y.allocs - x.allocs ||
            x.caller.localeCompare(y.caller),
        );
      const live = [...ledger.shadowed, ...ledger.live.values()];
      live.sort((x, y) => Number(y.acc.inModule !== false) - Number(x.acc.inModule !== false) || x.cycle - y.cycle);
      if (live.length > this.maxObjects) problems.push(`${name}: ${live.length} objects outstanding, the first ${this.maxObjects} listed`);
      const caches = [...ledger.cacheAllocs].map(([cache, allocs]) => ({
        cache,
        allocs,
        outstanding: live.filter((o) => o.cache === cache && o.acc.inModule !== false).length,
      }));
      const objects: OutstandingObject[] = live.slice(0, this.maxObjects).map((o) => ({
        address: o.address,
        caller: o.acc.caller,
        inModule: o.acc.inModule,
        cycle: index(o.cycle),
        ...(o.stack ? { stack: o.stack } : {}),
      }));
      return {
        alloc: p.spec.alloc,
        free: p.spec.free,
        method: ledger.method,
        ...total,
        module,
        callers: callerRows,
        cycles: cyclesOf(callers),
        moduleCycles,
        leakedPerCycle: leakRate(marked ? workload(moduleCycles) : [], module.outstanding),
        unmatchedFrees: ledger.unmatchedFrees,
        objects,
        ...(ledger.method === 'kmem' && ledger.events > 0 ? { caches, ignoredAllocs: ledger.ignored } : p.moduleOnly ? { ignoredAllocs: ledger.ignored } : {}),
      };
    });

    return {
      complete: lostEvents === 0 && this.missingEnds === 0 && !mismatched,
      lostEvents,
      ...(lostEvents > 0 ? { lostBy: { buffer: bufferLost, probes: this.probeMisses } } : {}),
      cycles,
      pairs,
      problems,
      ...(crossCheck.length > 0 ? { crossCheck } : {}),
    };
  }
}
