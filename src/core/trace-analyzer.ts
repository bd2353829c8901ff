// Counts and pairs allocations and frees from trace text, one line at a time. Reads every
// shape the kernel prints (function tracer, kprobe/kretprobe events, kmem tracepoints, stack
// blocks, markers, lost-event notes); what it keeps grows with call sites, cycles and live
// objects only, never with the length of the trace.
import type { AnalysisResult, BadFree, PairSpec, PairingMethod } from './model.js';
import { pairName } from './pair-spec.js';
import { allocatorsOf, isKmemPair, releasersOf } from './allocator-families.js';
import { ALLOC, FREE, Ledger, type LiveObject } from './ledger.js';
import { DEFERRED_FREE, deferredObject, isHashedPointer, parseMarker, weakPointerHash } from './trace-protocol.js';
import { isRawAddress, isTracingFrame, parseFrame, skipAddressSuffix } from './frames.js';
import type { ProbeCount } from './kprobe-profile.js';
import { ModuleMap, type Resolved } from './module-map.js';
import type { BufferStats } from './buffer-stats.js';
import { KnownTails, ownCopy, type PairState, type Tail, type TracedFunction } from './traced-functions.js';
import { ALLOC_OBJECT, AwaitingStacks, COUNT, contextOfBytes, FREE_OBJECT, lineContext, PendingEvent, STACK_ONLY } from './awaiting-stacks.js';
import { CycleMarks } from './cycle-marks.js';
import { KnownLines } from './known-lines.js';
import { assembleResult } from './analysis-result.js';
import { problemText } from './analysis-problems.js';
import { kmemBytes, kmemCache, kmemFields, objectAddress, parseProbeLine, probeValue } from './trace-lines.js';

/** Module objects remembered after their release, to tell a second free (oldest forgotten first). */
const MAX_FREED = 1 << 16;
/** Live objects of other code remembered, to tell a handed-over object from one never allocated. */
const MAX_OUTSIDE_LIVE = 1 << 20;

export interface AnalyzerOptions {
  pairs: PairSpec[];
  /** Module under test; without it every call site is "unknown" and counts for the module. */
  moduleMap?: ModuleMap;
  /** Frames kept per outstanding object. */
  maxStackFrames?: number;
  /** Outstanding objects listed in the result (module call sites first). */
  maxObjects?: number;
}

export class TraceAnalyzer {
  private readonly pairs: PairState[];
  /** Function name -> pairs it allocates or frees in (function tracer lines and kprobe probes). */
  private readonly functions = new Map<string, TracedFunction[]>();
  /** `functions` split by role: what a return probe (ALLOC) or an entry probe (FREE) on a function stands for. */
  private readonly probed: [Map<string, TracedFunction[]>, Map<string, TracedFunction[]>] = [new Map(), new Map()];
  /** kmem-style event name (`kmalloc`, `kfree`, `kmem_cache_alloc`...) -> what it stands for. */
  private readonly kmemEvents = new Map<string, TracedFunction[]>();
  private readonly map: ModuleMap;
  private readonly maxStackFrames: number;
  private readonly maxObjects: number;

  recognizedLines = 0;
  private headerLost = 0;
  private markerLost = 0;
  /** kmem pointers printed hashed (a kernel before 5.12): deferred frees are matched by the same hash. */
  private hashedPointers = false;
  private statsLost = 0;
  private probeMisses = 0;
  private readonly problems: string[] = [];
  private readonly marks = new CycleMarks();

  private readonly tails = new KnownTails();
  private readonly knownLines = new KnownLines(this.tails);
  /** The chunk of the last line decoded, and its text. */
  private decodedBytes: Buffer | null = null;
  private decoded = '';
  private readonly awaiting = new AwaitingStacks();
  /** The event whose `<stack trace>` block is being read. */
  private stackOwner: PendingEvent | null = null;
  private readonly reusableEvents: PendingEvent[] = [];
  /** A bad free just counted, whose stack may follow. */
  private lastBadFree: BadFree | null = null;
  /** Counts an event that will get no (more) stack, then keeps its object for reuse. */
  private readonly countAndRecycle = (p: PendingEvent): void => {
    this.count(p);
    if (p.frames.length > 0) p.frames.length = 0;
    this.reusableEvents.push(p);
  };

  constructor(options: AnalyzerOptions) {
    if (options.pairs.length === 0) throw new Error('no pair to track');
    this.map = options.moduleMap ?? new ModuleMap('');
    this.maxStackFrames = options.maxStackFrames ?? 16;
    this.maxObjects = options.maxObjects ?? 1000;
    this.pairs = options.pairs.map((spec) => ({ spec, fn: new Ledger(), addr: new Ledger(), moduleOnly: spec.auto === true && this.map.module !== '' }));
    for (const pair of this.pairs) {
      for (const fn of allocatorsOf(pair.spec)) {
        this.addTraced(this.functions, fn, { pair, role: ALLOC, fn });
        this.addTraced(this.kmemEvents, fn, { pair, role: ALLOC, fn });
        this.addTraced(this.kmemEvents, `${fn}_node`, { pair, role: ALLOC, fn });
      }
      for (const fn of releasersOf(pair.spec)) {
        this.addTraced(this.functions, fn, { pair, role: FREE, fn });
        this.addTraced(this.kmemEvents, fn, { pair, role: FREE, fn });
      }
      if (isKmemPair(pair.spec)) this.addTraced(this.functions, DEFERRED_FREE, { pair, role: FREE, fn: DEFERRED_FREE });
    }
    for (const [name, all] of this.functions) {
      for (const role of [ALLOC, FREE] as const) {
        const traced = all.filter((t) => t.role === role);
        if (traced.length > 0) this.probed[role].set(name, traced);
      }
    }
  }

  private addTraced(map: Map<string, TracedFunction[]>, name: string, t: TracedFunction): void {
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
      this.problems.push(problemText.probeMissed(spec === null ? c.event : pairName(spec), what, c.role, c.misses, c.hits));
    }
  }

  /** A new pending event for `traced`, read in the current cycle. */
  private pending(traced: TracedFunction[], context: number): PendingEvent {
    return this.renew(this.reusableEvents.pop() ?? new PendingEvent(), traced, context);
  }

  /** `p`, counted or new, made the pending event of `traced` in the current cycle. */
  private renew(p: PendingEvent, traced: TracedFunction[], context: number): PendingEvent {
    p.traced = traced;
    p.context = context;
    p.cycle = this.marks.cycle;
    p.tail = null;
    p.caller = '';
    p.address = '';
    p.method = 'function';
    p.cache = '';
    p.bytes = undefined;
    p.badFree = null;
    return p;
  }

  /** A stack block, if one was open, has ended: its owner is complete. */
  private endStack(): void {
    if (this.stackOwner !== null) {
      const p = this.stackOwner;
      this.stackOwner = null;
      this.countAndRecycle(p);
    }
  }

  /** A function-tracer line of a tracked function: counted once its stack, if any, has been read. */
  private countLater(traced: TracedFunction[], tail: Tail | null, caller: string, context: number): void {
    this.awaiting.add(this.awaitCall(this.pending(traced, context), tail, caller));
  }

  private awaitCall(p: PendingEvent, tail: Tail | null, caller: string): PendingEvent {
    p.kind = COUNT;
    p.tail = tail;
    p.caller = caller;
    return p;
  }

  /**
   * Feeds the lines of bytes[from, to), where `to` follows a line break or ends the trace, and
   * returns how many there are. Function-tracer lines whose head and tail are known, nearly all of
   * a trace, are read in one pass over their bytes (KnownLines); any other line is found with its
   * line break and goes through `pushRange`. `bytes` is not written again while its lines are fed.
   */
  pushLines(bytes: Buffer, from: number, to: number): number {
    const known = this.knownLines;
    let count = 0;
    for (let start = from; start < to; count++) {
      const tail = known.match(bytes, start, to);
      if (tail !== null) {
        this.functionLine(tail, known.context);
        start = known.next;
        continue;
      }
      const text = this.chunkText(bytes);
      let lineBreak = text.indexOf('\n', start);
      if (lineBreak < 0 || lineBreak >= to) lineBreak = to;
      const end = lineBreak > start && bytes[lineBreak - 1] === 13 ? lineBreak - 1 : lineBreak;
      this.pushRange(bytes, start, end, text);
      if (known.headMissed) {
        const bracket = indexOfSeparator(text, ']', start, end);
        known.learn(bytes, start, end, bracket, bracket < 0 ? -1 : indexOfSeparator(text, ':', bracket + 2, end));
      }
      start = lineBreak + 1;
    }
    return count;
  }

  /**
   * Feeds the line bytes[start, end) without decoding it: function-tracer lines whose tail is
   * known are counted from a few bytes; anything else is decoded (latin1) and goes through
   * `push`. `bytes` is a chunk of the trace that is not written again while its lines are fed;
   * `text`, when given, is the whole chunk decoded (latin1), else it is decoded here once per chunk.
   * The separators are found in the text (a string's indexOf of one character is much faster than
   * a loop over the bytes), the tail is compared in the bytes.
   */
  pushRange(bytes: Buffer, start: number, end: number, text?: string): void {
    const chunk = text ?? this.chunkText(bytes);
    const c = bytes[start];
    if (c === 35 /* # */ || c === 67 /* C */ || (c === 32 && bytes[start + 1] === 61)) {
      this.push(chunk.slice(start, end));
      return;
    }
    const bracket = indexOfSeparator(chunk, ']', start, end);
    const colon = bracket < 0 ? -1 : indexOfSeparator(chunk, ':', bracket + 2, end);
    const tail = colon < 0 ? null : this.tails.match(bytes, colon + 2, end);
    if (tail === null) {
      // An event (`kmalloc: call_site=..`, `a0: (..`) is no function-tracer line: no tail to learn.
      if (colon >= 0 && isEventName(bytes, colon + 2, end)) this.push(chunk.slice(start, end));
      else this.pushNewTail(chunk.slice(start, end));
      return;
    }
    this.functionLine(tail, contextOfBytes(bytes, start, bracket, end));
  }

  /** A function-tracer line whose tail is known, at this CPU and interrupt level. */
  private functionLine(tail: Tail, context: number): void {
    this.recognizedLines++;
    this.endStack();
    const traced = tail.traced;
    if (traced === null) {
      if (this.awaiting.size > 0) this.awaiting.passed(context, this.countAndRecycle);
      return;
    }
    const last = this.awaiting.aloneAt(context);
    if (last !== undefined && last.kind === COUNT) {
      // The usual case: the call before, on this CPU at this level, gets no stack: it is
      // counted and its event, still in its slot, becomes this call's.
      this.count(last);
      if (last.frames.length > 0) last.frames.length = 0;
      this.awaitCall(this.renew(last, traced, context), tail, tail.caller);
      return;
    }
    this.awaiting.passed(context, this.countAndRecycle);
    this.countLater(traced, tail, tail.caller, context);
  }

  /** The chunk as text, decoded once (latin1) for all its lines. */
  private chunkText(bytes: Buffer): string {
    if (bytes !== this.decodedBytes) {
      this.decoded = bytes.toString('latin1');
      this.decodedBytes = bytes;
    }
    return this.decoded;
  }

  /** A line whose tail is not known yet: parsed in full, its tail remembered when it is a function line. */
  private pushNewTail(line: string): void {
    const end = line.length;
    const bracket = line.indexOf('] ');
    const colon = bracket < 0 ? -1 : line.indexOf(': ', bracket);
    const space = colon < 0 ? -1 : line.indexOf(' ', colon + 2);
    // `func <-caller`, or with sym-addr `func <ffffffff817d82f0> <-caller <ffffffffc0248292>`.
    const arrow = space < 0 ? -1 : skipAddressSuffix(line, space);
    if (
      space < 0 ||
      arrow + 2 >= end ||
      line.charCodeAt(arrow + 1) !== 60 /* < */ ||
      line.charCodeAt(arrow + 2) !== 45 /* - */ ||
      line.charCodeAt(space - 1) === 58
    ) {
      this.push(line);
      return;
    }
    const body = colon + 2;
    let plus = body;
    while (plus < space && line.charCodeAt(plus) !== 43 /* + */) plus++;
    const traced = this.functions.get(line.slice(body, plus)) ?? null;
    if (plus < space && traced !== null) {
      // A tracked function printed with an offset (sym-offset): the general path, not remembered.
      this.push(line);
      return;
    }
    let callerEnd = end;
    while (callerEnd > arrow + 3 && line.charCodeAt(callerEnd - 1) <= 32) callerEnd--;
    const tail = this.tails.full ? null : this.tails.add(ownCopy(line.slice(body)), traced, ownCopy(line.slice(arrow + 3, callerEnd)));
    this.recognizedLines++;
    this.endStack();
    const context = lineContext(line, 0, end);
    this.awaiting.passed(context, this.countAndRecycle);
    if (traced !== null) this.countLater(traced, tail, tail !== null ? tail.caller : line.slice(arrow + 3, callerEnd), context);
  }

  /** Feeds one line of trace text (without its line break). */
  push(line: string): void {
    const c = line.charCodeAt(0);
    // ` => frame` lines of a <stack trace> block.
    if (c === 32 && line.charCodeAt(1) === 61 /* = */ && line.charCodeAt(2) === 62 /* > */) {
      this.recognizedLines++;
      const owner = this.stackOwner;
      if (owner !== null && owner.frames.length < 64) {
        const frame = line.slice(4).trim();
        // kretprobe/rethook/ftrace handlers that record the stack: not the allocation's path.
        if (!isTracingFrame(frame)) owner.frames.push(frame);
      }
      return;
    }
    this.endStack();
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
    const context = lineContext(line, 0, line.length);
    if (line.charCodeAt(body) === 60 /* < */ && line.startsWith('<stack trace>', body)) {
      this.recognizedLines++;
      this.stackOwner = this.awaiting.owner(context, this.countAndRecycle) ?? null;
      return;
    }
    this.awaiting.passed(context, this.countAndRecycle);
    if (line.charCodeAt(space - 1) === 58 /* : */) {
      this.recognizedLines++;
      this.event(line, line.slice(body, space - 1), space + 1, context);
      return;
    }
    const arrow = skipAddressSuffix(line, space);
    // With sym-addr, trace_marker lines read `tracing_mark_write <ffffffff811c36bd>: text`.
    if (arrow > space && line.charCodeAt(arrow) === 58 /* : */) {
      this.recognizedLines++;
      this.event(line, line.slice(body, space), arrow + 2, context);
      return;
    }
    if (line.charCodeAt(arrow + 1) !== 60 /* < */ || line.charCodeAt(arrow + 2) !== 45 /* - */) return;
    this.recognizedLines++;
    let func = line.slice(body, space);
    let traced = this.functions.get(func);
    if (traced === undefined) {
      const plus = func.indexOf('+');
      if (plus < 0) return;
      func = func.slice(0, plus);
      traced = this.functions.get(func);
      if (traced === undefined) return;
    }
    this.countLater(traced, null, line.slice(arrow + 3).trim(), context);
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
    this.markerLost += Number(m[1]);
  }

  private event(line: string, name: string, args: number, context: number): void {
    if (name === 'tracing_mark_write') {
      this.marker(line.slice(args));
      return;
    }
    if (line.charCodeAt(args) === 40 /* ( */) {
      this.probe(line, args, context);
      return;
    }
    const traced = this.kmemEvents.get(name);
    if (traced === undefined) return;
    const f = kmemFields(line, args);
    if (f === null) return;
    if (!this.hashedPointers && isHashedPointer(f.ptr)) this.hashedPointers = true;
    const p = this.object(traced, objectAddress(f.ptr), f.callSite, 'kmem', context);
    if (p !== null) {
      p.cache = kmemCache(line, f.ptrAt);
      p.bytes = kmemBytes(line, f.ptrAt);
    }
  }

  /** `(callsite <- func) ret=0x..` (return probe) or `(func+0x0/0x1e0) dev=0x..` (entry probe). */
  private probe(line: string, args: number, context: number): void {
    const probe = parseProbeLine(line, args);
    if (probe === null) return;
    const traced = this.probed[probe.isReturn ? ALLOC : FREE].get(probe.func);
    if (traced === undefined) return;
    // The kmem events of a kernel before 5.12 name objects by their printed hash: a probe's raw
    // address in a kmem pair (kvfree_call_rcu, kasprintf, kvfree) is hashed the same way.
    const raw = objectAddress(probe.func === DEFERRED_FREE ? deferredObject(probe.rest) : probeValue(probe));
    const address = raw !== '' && this.hashedPointers && isKmemPair(traced[0].pair.spec) ? weakPointerHash(raw) : raw;
    if (probe.func === DEFERRED_FREE) this.object(traced, address, '', 'kmem', context);
    else this.object(traced, address, probe.caller, 'kprobe', context);
  }

  /**
   * An allocation waits for its stack; a release is counted at once (no stack is recorded for
   * one), after any allocation of the same object still waiting. Returns the allocation.
   */
  private object(traced: TracedFunction[], address: string, caller: string, method: PairingMethod, context: number): PendingEvent | null {
    if (address === '') return null;
    const p = this.pending(traced, context);
    p.kind = traced[0].role === ALLOC ? ALLOC_OBJECT : FREE_OBJECT;
    p.address = address;
    p.caller = caller;
    p.method = method;
    if (p.kind === ALLOC_OBJECT) {
      this.awaiting.add(p);
      return p;
    }
    if (this.awaiting.size > 0) this.awaiting.settleAddress(address, this.countAndRecycle);
    this.countAndRecycle(p);
    const bad = this.lastBadFree;
    if (bad !== null) {
      // The kernel side records a stack for each free by module code: it goes to the report.
      this.lastBadFree = null;
      const q = this.pending([], context);
      q.kind = STACK_ONLY;
      q.badFree = bad;
      this.awaiting.add(q);
    }
    return null;
  }

  /** A module object released: remembered until its address is allocated again. */
  private released(ledger: Ledger, obj: LiveObject, freedBy: string, cycle: number): void {
    if (ledger.freed.size >= MAX_FREED) ledger.freed.delete(ledger.freed.keys().next().value as string);
    ledger.freed.set(obj.address, { allocatedBy: obj.acc.caller, freedBy: freedBy === '' ? 'kfree_rcu' : this.where(freedBy, cycle).caller });
  }

  /**
   * A frame of an event of `cycle`. The module's init code is freed once its init returned, before
   * the first cycle: from then on an address there is another module's (loaded into that memory).
   */
  private where(frame: string, cycle: number): Resolved {
    return this.map.resolve(frame, cycle >= 1);
  }

  /**
   * A kmem free of an address the module does not hold. By module code (its call site), it is a
   * bad free unless the address belongs to a live object of other code (handed to the module).
   */
  private strayFree(ledger: Ledger, p: PendingEvent, fn: string, cycle: number): void {
    const address = p.address;
    const r = p.caller === '' ? null : this.where(p.caller, p.cycle);
    if (r !== null && r.inModule === true) {
      const first = ledger.freed.get(address);
      let bad: BadFree | null = null;
      if (first !== undefined) {
        bad = { kind: 'double-free', address, caller: r.caller, inModule: true, fn, cycle, allocatedBy: first.allocatedBy, firstFreedBy: first.freedBy };
      } else if (!ledger.outsideLive.has(address) && !ledger.outsideOverflow) {
        bad = { kind: 'never-allocated', address, caller: r.caller, inModule: true, fn, cycle };
      }
      if (bad !== null) {
        ledger.badFrees.push(bad);
        this.lastBadFree = bad;
      }
    }
    ledger.outsideLive.delete(address);
  }

  /** An allocation of `address` by other code: its address is no module object's any more. */
  private outsideAllocation(pair: PairState, address: string): void {
    const ledger = pair.addr;
    ledger.freed.delete(address);
    if (ledger.outsideOverflow) return;
    ledger.outsideLive.add(address);
    if (ledger.outsideLive.size > MAX_OUTSIDE_LIVE) {
      ledger.outsideOverflow = true;
      ledger.outsideLive.clear();
      this.problems.push(problemText.freedKeptCapped(pairName(pair.spec), MAX_OUTSIDE_LIVE));
    }
  }

  /** The call site an event is attributed to: the innermost frame in the module, else the caller. */
  private attribute(p: PendingEvent, skip: string): Resolved {
    const direct = p.caller === '' ? null : this.where(p.caller, p.cycle);
    if (direct !== null && direct.inModule === true) return direct;
    for (const f of p.frames) {
      const r = this.where(f, p.cycle);
      if (r.inModule === true) return r;
    }
    if (direct !== null) return direct;
    for (const f of p.frames) {
      const r = this.where(f, p.cycle);
      if (r.inModule !== null || (!f.startsWith('0x') && !f.startsWith(skip))) return r;
    }
    return { caller: '(unknown)', inModule: null };
  }

  private stack(p: PendingEvent, skip: string): string[] | undefined {
    const frames = p.frames;
    if (frames.length === 0) return undefined;
    const out: string[] = [];
    for (let k = 0; k < frames.length && out.length < this.maxStackFrames; k++) {
      const r = this.where(frames[k], p.cycle);
      // The function tracer's stack starts with its trampoline, as hex, then the traced function.
      if (k === 0 && r.inModule !== true && isRawAddress(r.caller) && frames.length > 1 && parseFrame(frames[1]).symbol === skip) continue;
      if (parseFrame(r.caller).symbol === skip) continue;
      out.push(r.caller);
    }
    return out;
  }

  /** Enters one event into the ledgers of every pair it belongs to. */
  private count(p: PendingEvent): void {
    if (p.kind === STACK_ONLY) {
      const bad = p.badFree as BadFree;
      const stack = this.stack(p, bad.fn);
      if (stack !== undefined) bad.stack = stack;
      return;
    }
    const traced = p.traced;
    for (let ti = 0; ti < traced.length; ti++) {
      if (p.kind === COUNT) this.countCall(p, traced[ti], ti);
      else this.countObject(p, traced[ti]);
    }
  }

  /** A function-tracer call, counted at its call site (known from the tail when it came with no stack). */
  private countCall(p: PendingEvent, t: TracedFunction, ti: number): void {
    const cycle = p.cycle;
    const noStack = p.frames.length === 0;
    const ledger = t.pair.fn;
    ledger.events++;
    const tail = p.tail;
    const known = noStack && tail !== null ? tail.accs[ti] : undefined;
    if (known !== undefined) {
      if (t.role === ALLOC) {
        known.alloc(cycle);
        ledger.allocs++;
        if (known.inModule === false) ledger.outsideWithoutStack++;
      } else known.free(cycle);
      return;
    }
    const r = this.attribute(p, t.fn);
    if (r.inModule === false && noStack && t.role === ALLOC) {
      ledger.outsideWithoutStack++;
      ledger.outsideExample ||= r.caller;
    }
    const acc = ledger.acc(r);
    if (noStack && tail !== null) tail.accs[ti] = acc;
    if (t.role === ALLOC) {
      acc.alloc(cycle);
      ledger.allocs++;
    } else acc.free(cycle);
  }

  /** An allocation or release of one object (kmem events, kprobes), paired by address. */
  private countObject(p: PendingEvent, t: TracedFunction): void {
    const cycle = p.cycle;
    const noStack = p.frames.length === 0;
    const skip = t.fn;
    const ledger = t.pair.addr;
    ledger.events++;
    // A kmem pair's probed helpers (kasprintf, kvfree) do not make it a probe pair.
    if (ledger.method !== 'kmem') ledger.method = p.method;
    const address = p.address;
    if (p.kind === FREE_OBJECT) {
      const obj = ledger.live.get(address);
      // Every kfree in the kernel is a kmem event: only frees of the module's objects count.
      if (obj === undefined) {
        if ((p.method !== 'kmem' && !t.pair.moduleOnly) || this.map.module === '') ledger.unmatchedFrees++;
        else if (p.method === 'kmem') this.strayFree(ledger, p, t.fn, cycle);
      } else {
        ledger.live.delete(address);
        obj.acc.free(cycle);
        if (p.method === 'kmem') this.released(ledger, obj, p.caller, p.cycle);
      }
      return;
    }
    const r = this.attribute(p, skip);
    // kmem events and the families track: auto found cover the whole kernel: only the
    // module's own call sites are its objects.
    if ((p.method === 'kmem' || t.pair.moduleOnly) && r.inModule === false) {
      ledger.ignored++;
      if (p.method === 'kmem') this.outsideAllocation(t.pair, address);
      return;
    }
    ledger.freed.delete(address);
    ledger.outsideLive.delete(address);
    if (r.inModule === false && noStack && p.method === 'kprobe') {
      ledger.outsideWithoutStack++;
      ledger.outsideExample ||= r.caller;
    }
    const old = ledger.live.get(address);
    // One allocator of the family inside another (alloc_etherdev_mqs calls alloc_netdev_mqs):
    // the inner returned first, the object is the same.
    if (old !== undefined && old.fn !== t.fn && old.cycle === cycle) return;
    const acc = ledger.acc(r);
    acc.alloc(cycle);
    ledger.allocs++;
    if (old !== undefined) ledger.shadowed.push(old);
    const cache = p.cache;
    if (cache !== '') ledger.cacheAllocs.set(cache, (ledger.cacheAllocs.get(cache) ?? 0) + 1);
    ledger.live.set(address, { acc, cycle, address, stack: this.stack(p, skip), cache, bytes: p.bytes, fn: t.fn });
  }

  private marker(text: string): void {
    const m = parseMarker(text);
    if (!m) return;
    this.recognizedLines++;
    // What came before the marker belongs before it, stack or not.
    this.awaiting.drain(this.countAndRecycle);
    if ('phase' in m) return; // phase=unload: frees that follow stay in the last cycle's totals
    this.marks.mark(m, (cycle) => this.snapshot(cycle));
  }

  private snapshot(cycle: number): void {
    for (const p of this.pairs) {
      for (const ledger of [p.fn, p.addr]) for (const acc of ledger.callers.values()) acc.after[cycle] = acc.cum;
    }
  }

  /** Ends the trace and returns the analysis. */
  finish(): AnalysisResult {
    this.endStack();
    this.awaiting.drain(this.countAndRecycle);
    this.marks.finish((cycle) => this.snapshot(cycle));
    return assembleResult(this.pairs, {
      marks: this.marks,
      headerLost: this.headerLost,
      markerLost: this.markerLost,
      statsLost: this.statsLost,
      probeMisses: this.probeMisses,
      problems: this.problems,
      moduleKnown: this.map.module !== '',
      maxObjects: this.maxObjects,
    });
  }
}

/** Where `separator` (one character) followed by a space first occurs in text[from, end), else -1. */
function indexOfSeparator(text: string, separator: string, from: number, end: number): number {
  for (let i = text.indexOf(separator, from); i >= 0 && i + 1 < end; i = text.indexOf(separator, i + 1)) {
    if (text.charCodeAt(i + 1) === 32) return i;
  }
  return -1;
}

/** Whether bytes[body, end) starts with a word ending in `:` (an event's name), like `kfree: `. */
function isEventName(bytes: Uint8Array, body: number, end: number): boolean {
  let i = body;
  while (i < end && bytes[i] !== 32) i++;
  return i > body && i < end && bytes[i - 1] === 58 /* : */;
}
