#!/usr/bin/env node
import { createRequire as __abCreateRequire } from 'node:module';
const require = __abCreateRequire(import.meta.url);
var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// src/settings/input-error.ts
var InputError, UsageError;
var init_input_error = __esm({
  "src/settings/input-error.ts"() {
    "use strict";
    InputError = class extends Error {
      constructor(input, value, expected) {
        super(`input "${input}": ${value === "" ? "missing" : `"${value}" is not valid`}; expected ${expected}`);
        this.input = input;
        this.value = value;
        this.expected = expected;
        this.name = "InputError";
      }
      input;
      value;
      expected;
    };
    UsageError = class extends Error {
      constructor(message) {
        super(message);
        this.name = "UsageError";
      }
    };
  }
});

// src/core/pair-spec.ts
function parsePair(text) {
  const parts = text.trim().split(":");
  if (parts.length !== 2 || !SYMBOL.test(parts[0]) || !SYMBOL.test(parts[1])) {
    throw new Error(`"${text}" is not a pair: write ALLOC:FREE with two kernel function names, e.g. alloc_netdev_mqs:free_netdev`);
  }
  return { alloc: parts[0], free: parts[1] };
}
function parsePairList(text) {
  const items = text.split(/[\s,]+/).filter((s) => s !== "");
  if (items.length === 0) throw new Error("no pair given: write ALLOC:FREE, e.g. alloc_netdev_mqs:free_netdev");
  return items.map(parsePair);
}
function pairName(p) {
  return `${p.alloc}:${p.free}`;
}
var SYMBOL;
var init_pair_spec = __esm({
  "src/core/pair-spec.ts"() {
    "use strict";
    SYMBOL = /^[A-Za-z_][A-Za-z0-9_.]*$/;
  }
});

// src/core/frames.ts
function isHexDigit(c) {
  return c >= 48 && c <= 57 || c >= 97 && c <= 102 || c >= 65 && c <= 70;
}
function isRawAddress(text) {
  let i = text.startsWith("0x") ? 2 : 0;
  const digits = text.length - i;
  if (digits < 1 || i === 0 && digits < 8) return false;
  for (; i < text.length; i++) if (!isHexDigit(text.charCodeAt(i))) return false;
  return true;
}
function normalizeAddress(text) {
  const hex = (text.startsWith("0x") ? text.slice(2) : text).toLowerCase().replace(/^0+(?=.)/, "");
  return `0x${hex}`;
}
function parseFrame(raw) {
  let text = raw.trim();
  let module = "";
  if (text.endsWith("]")) {
    const open2 = text.lastIndexOf(" [");
    if (open2 > 0) {
      module = text.slice(open2 + 2, -1);
      text = text.slice(0, open2);
    }
  }
  if (isRawAddress(text)) return { symbol: "", offset: -1, module, address: normalizeAddress(text) };
  const plus = text.indexOf("+");
  if (plus < 0) return { symbol: text, offset: -1, module, address: "" };
  const slash = text.indexOf("/", plus);
  const off = Number.parseInt(text.slice(plus + 1, slash < 0 ? void 0 : slash), 16);
  return { symbol: text.slice(0, plus), offset: Number.isFinite(off) ? off : -1, module, address: "" };
}
function frameCaller(frame) {
  if (frame.symbol === "") return frame.address;
  return frame.offset >= 0 ? `${frame.symbol}+0x${frame.offset.toString(16)}` : frame.symbol;
}
function callerKey(caller) {
  let name = caller;
  const plus = name.indexOf("+");
  if (plus > 0) name = name.slice(0, plus);
  const dot = name.indexOf(".");
  if (dot > 0) name = name.slice(0, dot);
  return name;
}
var init_frames = __esm({
  "src/core/frames.ts"() {
    "use strict";
  }
});

// src/core/module-map.ts
function normalizeModuleName(name) {
  return name.trim().replace(/\.ko$/, "").replace(/-/g, "_");
}
function parseNm(text) {
  const symbols = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line === "") continue;
    if (line.includes("|")) {
      const f2 = line.split("|").map((s) => s.trim());
      if (f2.length < 7 || !FUNCTION_TYPES.has(f2[2]) || !/^[0-9a-fA-F]+$/.test(f2[1])) continue;
      symbols.push({ name: f2[0], value: BigInt(`0x${f2[1]}`), section: f2[6], size: /^[0-9a-fA-F]+$/.test(f2[4]) ? BigInt(`0x${f2[4]}`) : 0n });
      continue;
    }
    const f = line.split(/\s+/);
    if (f.length === 3 && FUNCTION_TYPES.has(f[1]) && /^[0-9a-fA-F]+$/.test(f[0])) {
      symbols.push({ name: f[2], value: BigInt(`0x${f[0]}`), section: ".text", size: 0n });
    } else if (f.length === 4 && FUNCTION_TYPES.has(f[2]) && /^[0-9a-fA-F]+$/.test(f[0]) && /^[0-9a-fA-F]+$/.test(f[1])) {
      symbols.push({ name: f[3], value: BigInt(`0x${f[0]}`), section: ".text", size: BigInt(`0x${f[1]}`) });
    }
  }
  return symbols;
}
var FUNCTION_TYPES, UNKNOWN_SIZE_REACH, ModuleMap;
var init_module_map = __esm({
  "src/core/module-map.ts"() {
    "use strict";
    init_frames();
    FUNCTION_TYPES = /* @__PURE__ */ new Set(["t", "T", "w", "W"]);
    UNKNOWN_SIZE_REACH = 0x10000n;
    ModuleMap = class {
      byName = /* @__PURE__ */ new Map();
      bySection = /* @__PURE__ */ new Map();
      sectionStarts = [];
      cache = /* @__PURE__ */ new Map();
      module;
      /**
       * @param module module name (`leaky`, `rte_kni`); '' when unknown.
       * @param nmText `nm` output of the built .ko; '' when not available.
       * @param sections section start addresses while loaded, e.g. `{".text": "0xffffffffc0200000"}`.
       */
      constructor(module, nmText = "", sections = {}) {
        this.module = normalizeModuleName(module);
        for (const s of parseNm(nmText)) {
          if (!this.byName.has(s.name)) this.byName.set(s.name, s);
          const list = this.bySection.get(s.section) ?? [];
          list.push(s);
          this.bySection.set(s.section, list);
        }
        for (const list of this.bySection.values()) list.sort((a, b) => a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
        for (const [name, start] of Object.entries(sections)) {
          if (!/^(0x)?[0-9a-fA-F]+$/.test(start.trim())) throw new Error(`section ${name}: "${start}" is not an address`);
          this.sectionStarts.push({ name, start: BigInt(start.trim().startsWith("0x") ? start.trim() : `0x${start.trim()}`) });
        }
        this.sectionStarts.sort((a, b) => a.start < b.start ? 1 : a.start > b.start ? -1 : 0);
      }
      /** True when nm symbols were given: bare symbols can then be told apart. */
      get hasSymbols() {
        return this.byName.size > 0;
      }
      /** Resolves one frame or call site as printed in a trace. Cached: traces repeat call sites. */
      resolve(text) {
        let r = this.cache.get(text);
        if (r === void 0) {
          r = this.resolveFrame(parseFrame(text));
          if (this.cache.size < 1e5) this.cache.set(text, r);
        }
        return r;
      }
      resolveFrame(frame) {
        if (frame.address !== "") return this.resolveAddress(frame.address);
        const caller = frameCaller(frame);
        if (frame.module !== "") {
          return { caller, inModule: this.module === "" ? null : normalizeModuleName(frame.module) === this.module };
        }
        if (this.byName.size > 0) return { caller, inModule: this.byName.has(frame.symbol) };
        if (this.module !== "" && frame.offset >= 0) return { caller, inModule: false };
        return { caller, inModule: null };
      }
      resolveAddress(address) {
        if (this.sectionStarts.length === 0) return { caller: address, inModule: null };
        const a = BigInt(address);
        for (const { name, start } of this.sectionStarts) {
          if (a < start) continue;
          const off = a - start;
          const list = this.bySection.get(name) ?? [];
          let best;
          for (const s of list) {
            if (s.value > off) break;
            best = s;
          }
          if (best && off < best.value + (best.size > 0n ? best.size : UNKNOWN_SIZE_REACH)) {
            return { caller: `${best.name}+0x${(off - best.value).toString(16)}`, inModule: true };
          }
          break;
        }
        return { caller: address, inModule: this.hasSymbols ? false : null };
      }
      /**
       * Section-relative offsets of in-module call sites (`func+0x5a`), for `addr2line -j`.
       * Call sites are return addresses: the call instruction is the byte before.
       */
      offsets(callers) {
        const out = [];
        const seen = /* @__PURE__ */ new Set();
        for (const caller of callers) {
          if (seen.has(caller)) continue;
          seen.add(caller);
          const frame = parseFrame(caller);
          const sym = this.byName.get(frame.symbol);
          if (!sym || frame.offset < 0) continue;
          out.push({ caller, section: sym.section, offset: Number(sym.value) + Math.max(frame.offset - 1, 0) });
        }
        return out;
      }
    };
  }
});

// src/core/leak-rate.ts
function round2(n) {
  const r = Math.round(n * 100) / 100;
  return r === 0 ? 0 : r;
}
function slope(values) {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n + 1) / 2;
  let meanY = 0;
  for (const v of values) meanY += v;
  meanY /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = i + 1 - meanX;
    num += dx * (values[i] - meanY);
    den += dx * dx;
  }
  return num / den;
}
function leakRate(afterEachCycle, finalOutstanding) {
  if (afterEachCycle.length >= 2) return round2(slope(afterEachCycle));
  return round2(finalOutstanding / Math.max(afterEachCycle.length, 1));
}
var init_leak_rate = __esm({
  "src/core/leak-rate.ts"() {
    "use strict";
  }
});

// src/core/trace-analyzer.ts
var ALLOC, FREE, CallerAcc, Ledger, NO_PENDING, PENDING_COUNT, PENDING_ALLOC_OBJECT, PENDING_FREE_OBJECT, TRAMPOLINES, MARKER, TraceAnalyzer;
var init_trace_analyzer = __esm({
  "src/core/trace-analyzer.ts"() {
    "use strict";
    init_pair_spec();
    init_frames();
    init_module_map();
    init_leak_rate();
    ALLOC = 0;
    FREE = 1;
    CallerAcc = class {
      constructor(caller, inModule) {
        this.caller = caller;
        this.inModule = inModule;
      }
      caller;
      inModule;
      allocs = 0;
      frees = 0;
      cum = 0;
      allocsIn = [];
      freesIn = [];
      /** Cumulative outstanding when each cycle ended. */
      after = [];
      alloc(cycle) {
        this.allocs++;
        this.cum++;
        this.allocsIn[cycle] = (this.allocsIn[cycle] ?? 0) + 1;
      }
      free(cycle) {
        this.frees++;
        this.cum--;
        this.freesIn[cycle] = (this.freesIn[cycle] ?? 0) + 1;
      }
    };
    Ledger = class {
      callers = /* @__PURE__ */ new Map();
      events = 0;
      allocs = 0;
      unmatchedFrees = 0;
      /** Allocations attributed outside the module that came with no stack to look through. */
      outsideWithoutStack = 0;
      /** One of those call sites, named in the hint. */
      outsideExample = "";
      live = /* @__PURE__ */ new Map();
      /** Objects whose address was allocated again before any free was seen. */
      shadowed = [];
      method = "function";
      /** Recent call-site texts and their counters: compared in place, no string is cut per line. */
      quickTexts = [];
      quickAccs = [];
      quick(line, start, end) {
        const n = end - start;
        const texts = this.quickTexts;
        for (let k = 0; k < texts.length; k++) {
          const t = texts[k];
          if (t.length === n && line.startsWith(t, start)) return this.quickAccs[k];
        }
        return void 0;
      }
      remember(text, acc) {
        if (this.quickTexts.length < 32) {
          this.quickTexts.push(text);
          this.quickAccs.push(acc);
        }
      }
      acc(r) {
        let a = this.callers.get(r.caller);
        if (a === void 0) {
          a = new CallerAcc(r.caller, r.inModule);
          this.callers.set(r.caller, a);
        }
        return a;
      }
    };
    NO_PENDING = 0;
    PENDING_COUNT = 1;
    PENDING_ALLOC_OBJECT = 2;
    PENDING_FREE_OBJECT = 3;
    TRAMPOLINES = /* @__PURE__ */ new Set(["kretprobe_trampoline", "__kretprobe_trampoline", "arch_rethook_trampoline", "ftrace_regs_caller", "ftrace_caller", "ftrace_trampoline"]);
    MARKER = /^(?:alloc-balance\s+)?(?:cycle[= ]?(\d+)\s+(start|end)|phase=(\w+))\s*$/;
    TraceAnalyzer = class {
      pairs;
      /** Function name -> pairs it allocates or frees in (function tracer lines and kprobe probes). */
      functions = /* @__PURE__ */ new Map();
      /** The same names as an array, matched in place on the hot path. */
      functionNames = [];
      functionTargets = [];
      /** kmem-style event name (`kmalloc`, `kfree`, `kmem_cache_alloc`...) -> targets. */
      kmemEvents = /* @__PURE__ */ new Map();
      map;
      maxStackFrames;
      maxObjects;
      recognizedLines = 0;
      headerLost = 0;
      markerLost = 0;
      statsLost = 0;
      statsFiles = 0;
      problems = [];
      cycle = 0;
      starts = 0;
      inCycle = false;
      missingEnds = 0;
      strayEnds = 0;
      pendingKind = NO_PENDING;
      pendingTargets = [];
      pendingCaller = "";
      /** Function-tracer events keep the line and where the caller starts; cut only when needed. */
      pendingLine = "";
      pendingCallerStart = 0;
      pendingCallerEnd = 0;
      pendingBracket = 0;
      pendingAddress = "";
      pendingCycle = 0;
      pendingMethod = "function";
      stackOpen = false;
      frames = [];
      constructor(options) {
        if (options.pairs.length === 0) throw new Error("no pair to track");
        this.map = options.moduleMap ?? new ModuleMap("");
        this.maxStackFrames = options.maxStackFrames ?? 16;
        this.maxObjects = options.maxObjects ?? 1e3;
        this.pairs = options.pairs.map((spec) => ({ spec, fn: new Ledger(), addr: new Ledger() }));
        for (const pair of this.pairs) {
          this.addTarget(this.functions, pair.spec.alloc, { pair, role: ALLOC });
          this.addTarget(this.functions, pair.spec.free, { pair, role: FREE });
          this.addTarget(this.kmemEvents, pair.spec.alloc, { pair, role: ALLOC });
          this.addTarget(this.kmemEvents, `${pair.spec.alloc}_node`, { pair, role: ALLOC });
          this.addTarget(this.kmemEvents, pair.spec.free, { pair, role: FREE });
        }
        for (const [name, targets] of this.functions) {
          this.functionNames.push(name);
          this.functionTargets.push(targets);
        }
      }
      addTarget(map, name, t) {
        const list = map.get(name) ?? [];
        list.push(t);
        map.set(name, list);
      }
      /** Lost-event counts from per_cpu/cpuN/stats read at the end of the run. */
      addBufferStats(stats) {
        this.statsLost += stats.lost;
        this.statsFiles++;
      }
      /**
       * Feeds the line text[start, end) without cutting it out: function-tracer lines, nearly all
       * of a trace, are counted in place; anything else goes through `push`.
       */
      pushRange(text, start, end) {
        const c = text.charCodeAt(start);
        if (c === 35 || c === 67 || c === 32 && text.charCodeAt(start + 1) === 61) {
          this.push(text.slice(start, end));
          return;
        }
        const bracket = text.indexOf("] ", start);
        const colon = bracket < 0 || bracket >= end ? -1 : text.indexOf(": ", bracket);
        const space = colon < 0 || colon >= end ? -1 : text.indexOf(" ", colon + 2);
        if (space < 0 || space >= end || text.charCodeAt(space + 1) !== 60 || text.charCodeAt(space + 2) !== 45 || text.charCodeAt(space - 1) === 58) {
          this.push(text.slice(start, end));
          return;
        }
        const body = colon + 2;
        const n = space - body;
        const names = this.functionNames;
        let k = 0;
        for (; k < names.length; k++) if (names[k].length === n && text.startsWith(names[k], body)) break;
        if (k === names.length) {
          const plus = text.indexOf("+", body);
          if (plus >= 0 && plus < space) this.push(text.slice(start, end));
          else {
            this.recognizedLines++;
            this.stackOpen = false;
            if (this.pendingKind !== NO_PENDING) this.flush();
          }
          return;
        }
        this.recognizedLines++;
        this.stackOpen = false;
        if (this.pendingKind !== NO_PENDING) this.flush();
        this.pendingKind = PENDING_COUNT;
        this.pendingTargets = this.functionTargets[k];
        this.pendingLine = text;
        this.pendingCallerStart = space + 3;
        this.pendingCallerEnd = end;
        this.pendingCaller = "";
        this.pendingBracket = bracket;
        this.pendingCycle = this.cycle;
        if (this.frames.length > 0) this.frames.length = 0;
      }
      /** Feeds one line of trace text (without its line break). */
      push(line) {
        const c = line.charCodeAt(0);
        if (c === 32 && line.charCodeAt(1) === 61 && line.charCodeAt(2) === 62) {
          this.recognizedLines++;
          if (this.stackOpen && this.frames.length < 64) this.frames.push(line.slice(4).trim());
          return;
        }
        this.stackOpen = false;
        if (c === 35) {
          this.header(line);
          return;
        }
        if (c === 67 && line.startsWith("CPU:")) {
          this.lostNote(line);
          return;
        }
        const bracket = line.indexOf("] ");
        const colon = bracket < 0 ? -1 : line.indexOf(": ", bracket);
        if (colon < 0) {
          const text = line.trim();
          if (text.startsWith("alloc-balance ")) this.marker(text);
          return;
        }
        const body = colon + 2;
        const space = line.indexOf(" ", body);
        if (space < 0) return;
        if (line.charCodeAt(space - 1) === 58) {
          this.recognizedLines++;
          this.event(line, bracket, line.slice(body, space - 1), space + 1);
          return;
        }
        if (line.charCodeAt(body) === 60 && line.startsWith("<stack trace>", body)) {
          this.recognizedLines++;
          this.stackOpen = this.pendingKind !== NO_PENDING && this.cpuOf(line, bracket) === this.cpuOf(this.pendingLine, this.pendingBracket);
          return;
        }
        if (line.charCodeAt(space + 1) !== 60 || line.charCodeAt(space + 2) !== 45) return;
        this.recognizedLines++;
        if (this.pendingKind !== NO_PENDING) this.flush();
        let func = line.slice(body, space);
        let targets = this.functions.get(func);
        if (targets === void 0) {
          const plus = func.indexOf("+");
          if (plus < 0) return;
          func = func.slice(0, plus);
          targets = this.functions.get(func);
          if (targets === void 0) return;
        }
        this.pendingKind = PENDING_COUNT;
        this.pendingTargets = targets;
        this.pendingLine = line;
        this.pendingCallerStart = space + 3;
        this.pendingCallerEnd = line.length;
        this.pendingCaller = "";
        this.pendingBracket = bracket;
        this.pendingCycle = this.cycle;
        if (this.frames.length > 0) this.frames.length = 0;
      }
      cpuOf(line, bracket) {
        return line.slice(line.lastIndexOf("[", bracket) + 1, bracket);
      }
      header(line) {
        const at = line.indexOf("entries-in-buffer/entries-written:");
        if (at < 0) return;
        this.recognizedLines++;
        const m = /(\d+)\/(\d+)/.exec(line.slice(at + 34));
        if (m && Number(m[2]) > Number(m[1])) this.headerLost += Number(m[2]) - Number(m[1]);
      }
      lostNote(line) {
        const m = /\[LOST (\d+) EVENTS\]/.exec(line);
        if (!m) return;
        this.recognizedLines++;
        if (this.pendingKind !== NO_PENDING) this.flush();
        this.markerLost += Number(m[1]);
      }
      event(line, bracket, name, args) {
        if (this.pendingKind !== NO_PENDING) this.flush();
        if (name === "tracing_mark_write") {
          this.marker(line.slice(args));
          return;
        }
        if (line.charCodeAt(args) === 40) {
          this.probe(line, bracket, args);
          return;
        }
        const targets = this.kmemEvents.get(name);
        if (targets === void 0) return;
        const cs = line.indexOf("call_site=", args);
        const ptrAt = line.indexOf(" ptr=", args);
        if (cs < 0 || ptrAt < 0) return;
        const ptrEnd = line.indexOf(" ", ptrAt + 5);
        const address = this.addressValue(line.slice(ptrAt + 5, ptrEnd < 0 ? void 0 : ptrEnd));
        const callSite = cs < ptrAt ? line.slice(cs + 10, ptrAt) : line.slice(cs + 10, line.indexOf(" ", cs) < 0 ? void 0 : line.indexOf(" ", cs));
        this.pendObject(targets, line, bracket, address, callSite.trim(), "kmem");
      }
      /** `(callsite <- func) ret=0x..` (return probe) or `(func+0x0/0x1e0) dev=0x..` (entry probe). */
      probe(line, bracket, args) {
        const close = line.indexOf(")", args);
        if (close < 0) return;
        const inner = line.slice(args + 1, close);
        const arrow = inner.indexOf(" <- ");
        const isReturn = arrow >= 0;
        const func = isReturn ? inner.slice(arrow + 4).trim() : parseFrame(inner).symbol;
        const all = this.functions.get(func);
        if (all === void 0) return;
        const role = isReturn ? ALLOC : FREE;
        const targets = all.filter((t) => t.role === role);
        if (targets.length === 0) return;
        const rest = line.slice(close + 1);
        let value = "";
        if (isReturn) {
          const ret = /(?:^|\s)ret=(\S+)/.exec(rest);
          if (ret) value = ret[1];
        }
        if (value === "") {
          const first = /\S+?=(\S+)/.exec(rest);
          if (first) value = first[1];
        }
        this.pendObject(targets, line, bracket, this.addressValue(value), isReturn ? inner.slice(0, arrow).trim() : "", "kprobe");
      }
      /** An object address as `0x...`, '' for NULL or a value that is no address. */
      addressValue(text) {
        let t = text.trim();
        if (t.startsWith('"')) t = t.slice(1, -1);
        if (/^\d+$/.test(t) && !/^0[0-9]/.test(t)) t = `0x${BigInt(t).toString(16)}`;
        if (!isRawAddress(t) && !(t.startsWith("0x") && t.length > 2)) return "";
        const a = normalizeAddress(t);
        return a === "0x0" ? "" : a;
      }
      pendObject(targets, line, bracket, address, caller, method) {
        if (address === "") return;
        this.pendingKind = targets[0].role === ALLOC ? PENDING_ALLOC_OBJECT : PENDING_FREE_OBJECT;
        this.pendingTargets = targets;
        this.pendingAddress = address;
        this.pendingCaller = caller;
        this.pendingLine = line;
        this.pendingBracket = bracket;
        this.pendingCycle = this.cycle;
        this.pendingMethod = method;
        if (this.frames.length > 0) this.frames.length = 0;
      }
      /** The call site an event is attributed to: the innermost frame in the module, else the caller. */
      attribute(skip) {
        const direct = this.pendingCaller === "" ? null : this.map.resolve(this.pendingCaller);
        if (direct !== null && direct.inModule === true) return direct;
        for (const f of this.frames) {
          const r = this.map.resolve(f);
          if (r.inModule === true) return r;
        }
        if (direct !== null) return direct;
        for (const f of this.frames) {
          const r = this.map.resolve(f);
          if (r.inModule !== null || !f.startsWith("0x") && !f.startsWith(skip)) return r;
        }
        return { caller: "(unknown)", inModule: null };
      }
      stack(skip) {
        if (this.frames.length === 0) return void 0;
        const out = [];
        for (let k = 0; k < this.frames.length && out.length < this.maxStackFrames; k++) {
          const r = this.map.resolve(this.frames[k]);
          if (k === 0 && r.inModule !== true && isRawAddress(r.caller)) continue;
          const symbol = parseFrame(r.caller).symbol;
          if (symbol === skip || TRAMPOLINES.has(symbol)) continue;
          out.push(r.caller);
        }
        return out;
      }
      flush() {
        const kind = this.pendingKind;
        this.pendingKind = NO_PENDING;
        const cycle = this.pendingCycle;
        for (const t of this.pendingTargets) {
          const skip = t.role === ALLOC ? t.pair.spec.alloc : t.pair.spec.free;
          if (kind === PENDING_COUNT) {
            const ledger = t.pair.fn;
            ledger.events++;
            const line = this.pendingLine;
            let end = this.pendingCallerEnd;
            while (end > this.pendingCallerStart && line.charCodeAt(end - 1) <= 32) end--;
            if (this.frames.length === 0) {
              const known = ledger.quick(line, this.pendingCallerStart, end);
              if (known !== void 0) {
                if (t.role === ALLOC) {
                  known.alloc(cycle);
                  ledger.allocs++;
                  if (known.inModule === false) ledger.outsideWithoutStack++;
                } else known.free(cycle);
                continue;
              }
            }
            if (this.pendingCaller === "") this.pendingCaller = line.slice(this.pendingCallerStart, end);
            const r = this.attribute(skip);
            if (r.inModule === false && this.frames.length === 0 && t.role === ALLOC) {
              ledger.outsideWithoutStack++;
              ledger.outsideExample ||= r.caller;
            }
            const acc = ledger.acc(r);
            if (this.frames.length === 0) ledger.remember(this.pendingCaller, acc);
            if (t.role === ALLOC) {
              acc.alloc(cycle);
              ledger.allocs++;
            } else acc.free(cycle);
          } else {
            const ledger = t.pair.addr;
            ledger.events++;
            ledger.method = this.pendingMethod;
            const address = this.pendingAddress;
            if (kind === PENDING_ALLOC_OBJECT) {
              const r = this.attribute(skip);
              if (r.inModule === false && this.frames.length === 0 && this.pendingMethod === "kprobe") {
                ledger.outsideWithoutStack++;
                ledger.outsideExample ||= r.caller;
              }
              const acc = ledger.acc(r);
              acc.alloc(cycle);
              ledger.allocs++;
              const old = ledger.live.get(address);
              if (old !== void 0) ledger.shadowed.push(old);
              ledger.live.set(address, { acc, cycle, address, stack: this.stack(skip) });
            } else {
              const obj = ledger.live.get(address);
              if (obj === void 0) ledger.unmatchedFrees++;
              else {
                ledger.live.delete(address);
                obj.acc.free(cycle);
              }
            }
          }
        }
        if (this.frames.length > 0) this.frames.length = 0;
      }
      marker(text) {
        const m = MARKER.exec(text.trim());
        if (!m) return;
        this.recognizedLines++;
        if (this.pendingKind !== NO_PENDING) this.flush();
        if (m[3] !== void 0) return;
        if (m[2] === "start") {
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
      snapshot(cycle) {
        for (const p of this.pairs) {
          for (const ledger of [p.fn, p.addr]) for (const acc of ledger.callers.values()) acc.after[cycle] = acc.cum;
        }
      }
      /** Ends the trace and returns the analysis. */
      finish() {
        if (this.pendingKind !== NO_PENDING) this.flush();
        const problems = this.problems;
        const marked = this.starts > 0;
        if (this.inCycle) {
          this.missingEnds++;
          this.snapshot(this.cycle);
        }
        if (!marked) this.snapshot(0);
        const cycles = marked ? this.starts : 1;
        const index = (c) => marked ? c : 1;
        const cycleIds = marked ? Array.from({ length: cycles + 1 }, (_, k) => k) : [1];
        const sourceOf = (c) => marked ? c : 0;
        const traceLost = this.headerLost + this.markerLost;
        const lostEvents = Math.max(traceLost, this.statsLost);
        if (this.headerLost > 0) problems.push(`the trace buffer overwrote ${this.headerLost} events (entries-in-buffer < entries-written): raise trace-buffer-kb`);
        if (this.markerLost > 0) problems.push(`the trace reports ${this.markerLost} lost events ([LOST n EVENTS]): raise trace-buffer-kb`);
        if (this.statsLost > 0) problems.push(`the per-CPU buffer stats count ${this.statsLost} overrun or dropped events: raise trace-buffer-kb`);
        if (this.missingEnds > 0) problems.push(`${this.missingEnds} cycle(s) started without an end marker: the workload cycle did not finish`);
        if (this.strayEnds > 0) problems.push(`${this.strayEnds} cycle end marker(s) without a start marker`);
        const crossCheck = [];
        const pairs = this.pairs.map((p) => {
          const name = pairName(p.spec);
          const addressPaired = p.addr.events > 0;
          const ledger = addressPaired ? p.addr : p.fn;
          if (addressPaired && p.fn.events > 0) {
            crossCheck.push({ pair: name, kprobeAllocs: p.addr.allocs, functionAllocs: p.fn.allocs, agree: p.addr.allocs === p.fn.allocs });
            if (p.addr.allocs !== p.fn.allocs) {
              problems.push(`${name}: the function tracer counted ${p.fn.allocs} calls of ${p.spec.alloc}, the probes ${p.addr.allocs} allocations`);
            }
          }
          if (ledger.events === 0) problems.push(`${name}: no ${p.spec.alloc} or ${p.spec.free} event in the trace: check that the pair is traced`);
          if (ledger.outsideWithoutStack > 0 && this.map.module !== "") {
            problems.push(
              `${name}: ${ledger.outsideWithoutStack} allocation(s) attributed to call sites outside the module (e.g. ${ledger.outsideExample}) with no stack: if the module reaches them, record stacks to attribute them`
            );
          }
          const callers = [...ledger.callers.values()];
          const cyclesOf = (accs) => cycleIds.map((c) => {
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
          const sum = (accs) => {
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
          const total = sum(callers);
          const workload = (cs) => cs.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter);
          const callerRows = callers.map((a) => ({
            caller: a.caller,
            inModule: a.inModule,
            allocs: a.allocs,
            frees: a.frees,
            outstanding: a.allocs - a.frees,
            perCycle: cyclesOf([a])
          })).sort((x, y) => Number(y.inModule === true) - Number(x.inModule === true) || y.outstanding - x.outstanding || y.allocs - x.allocs || x.caller.localeCompare(y.caller));
          const live = [...ledger.shadowed, ...ledger.live.values()];
          live.sort((x, y) => Number(y.acc.inModule !== false) - Number(x.acc.inModule !== false) || x.cycle - y.cycle);
          if (live.length > this.maxObjects) problems.push(`${name}: ${live.length} objects outstanding, the first ${this.maxObjects} listed`);
          const objects2 = live.slice(0, this.maxObjects).map((o) => ({
            address: o.address,
            caller: o.acc.caller,
            inModule: o.acc.inModule,
            cycle: index(o.cycle),
            ...o.stack ? { stack: o.stack } : {}
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
            objects: objects2
          };
        });
        return {
          complete: lostEvents === 0 && this.missingEnds === 0,
          lostEvents,
          cycles,
          pairs,
          problems,
          ...crossCheck.length > 0 ? { crossCheck } : {}
        };
      }
    };
  }
});

// src/core/trace-source.ts
import { createReadStream } from "node:fs";
function open(source) {
  if (typeof source !== "string") return source;
  return createReadStream(source, { highWaterMark: CHUNK });
}
async function forEachLineRange(source, onLine) {
  const stream = open(source);
  stream.setEncoding("latin1");
  let rest = "";
  let count = 0;
  for await (const chunk of stream) {
    const text = rest === "" ? chunk : rest + chunk;
    let start = 0;
    let nl = text.indexOf("\n");
    while (nl >= 0) {
      onLine(text, start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      count++;
      start = nl + 1;
      nl = text.indexOf("\n", start);
    }
    rest = text.slice(start);
  }
  if (rest !== "") {
    onLine(rest, 0, rest.endsWith("\r") ? rest.length - 1 : rest.length);
    count++;
  }
  return count;
}
var CHUNK;
var init_trace_source = __esm({
  "src/core/trace-source.ts"() {
    "use strict";
    CHUNK = 1 << 20;
  }
});

// src/core/buffer-stats.ts
function parseBufferStats(text) {
  const stats = { cpus: 0, overrun: 0, dropped: 0, lost: 0 };
  let recognized = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = Number(line.slice(colon + 1).trim());
    if (!Number.isFinite(value)) continue;
    if (key === "entries") {
      stats.cpus++;
      recognized++;
    } else if (key === "overrun") {
      stats.overrun += value;
      recognized++;
    } else if (key === "dropped events") {
      stats.dropped += value;
      recognized++;
    } else if (key === "commit overrun" || key === "read events" || key === "bytes") {
      recognized++;
    }
  }
  if (recognized === 0) throw new Error('no "entries:", "overrun:" or "dropped events:" line: not a per_cpu/cpuN/stats file');
  stats.lost = stats.overrun + stats.dropped;
  return stats;
}
var init_buffer_stats = __esm({
  "src/core/buffer-stats.ts"() {
    "use strict";
  }
});

// src/core/slabinfo.ts
function parseSlabinfo(text) {
  const snapshots = [];
  let current = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("slabinfo - version")) {
      current = /* @__PURE__ */ new Map();
      snapshots.push(current);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(/\s+/);
    if (f.length < 6 || f[6] !== ":" || !/^\d+$/.test(f[1])) continue;
    if (!current) {
      current = /* @__PURE__ */ new Map();
      snapshots.push(current);
    }
    current.set(f[0], Number(f[1]));
  }
  if (snapshots.length === 0) throw new Error("no slabinfo row: not a /proc/slabinfo snapshot");
  return snapshots;
}
function slabDelta(before, after) {
  const rows2 = [];
  for (const cache of /* @__PURE__ */ new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(cache) ?? 0;
    const a = after.get(cache) ?? 0;
    if (a !== b) rows2.push({ cache, before: b, after: a, delta: a - b });
  }
  return rows2.sort((x, y) => y.delta - x.delta || x.cache.localeCompare(y.cache));
}
var init_slabinfo = __esm({
  "src/core/slabinfo.ts"() {
    "use strict";
  }
});

// src/core/analyze-traces.ts
import { readFileSync, statSync } from "node:fs";
function readText(path, what) {
  try {
    return readFileSync(path, "latin1");
  } catch (e) {
    throw new UsageError(`${what} ${path}: cannot be read (${e.code ?? e.message})`);
  }
}
async function analyzeTraces(options) {
  if (options.traces.length === 0) throw new UsageError("no trace given: pass --trace FILE (or --trace - for standard input)");
  const analyzer = new TraceAnalyzer({ pairs: options.pairs, moduleMap: options.moduleMap });
  const push = (text, start, end) => analyzer.pushRange(text, start, end);
  for (const path of options.traces) {
    const before = analyzer.recognizedLines;
    let lines2;
    if (path === "-") {
      lines2 = await forEachLineRange(options.stdin ?? process.stdin, push);
    } else {
      try {
        if (!statSync(path).isFile()) throw new UsageError(`trace ${path}: not a file`);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`trace ${path}: cannot be read (${e.code ?? e.message})`);
      }
      lines2 = await forEachLineRange(path, push);
    }
    const name = path === "-" ? "standard input" : `trace ${path}`;
    if (lines2 === 0) throw new UsageError(`${name} is empty: expected the text of /sys/kernel/tracing/trace or trace_pipe`);
    if (analyzer.recognizedLines === before) {
      throw new UsageError(`${name}: no trace line in ${lines2} line(s): expected the text of /sys/kernel/tracing/trace or trace_pipe`);
    }
  }
  for (const path of options.stats ?? []) {
    try {
      analyzer.addBufferStats(parseBufferStats(readText(path, "stats file")));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`stats file ${path}: ${e.message}`);
    }
  }
  const result = analyzer.finish();
  const slabFiles = options.slabinfo ?? [];
  if (slabFiles.length > 0) {
    const snapshots = [];
    for (const path of slabFiles) {
      try {
        snapshots.push(...parseSlabinfo(readText(path, "slabinfo file")));
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`slabinfo file ${path}: ${e.message}`);
      }
    }
    if (snapshots.length < 2) throw new UsageError("slabinfo: two snapshots are needed (before and after), in one file or two");
    result.slab = slabDelta(snapshots[0], snapshots[snapshots.length - 1]);
  }
  return result;
}
var init_analyze_traces = __esm({
  "src/core/analyze-traces.ts"() {
    "use strict";
    init_trace_analyzer();
    init_trace_source();
    init_buffer_stats();
    init_slabinfo();
    init_input_error();
  }
});

// src/core/compare.ts
function figures(counts, cycles, sideCycles, rate) {
  const growth = cycles.filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter);
  return {
    allocs: counts.allocs,
    frees: counts.frees,
    outstanding: counts.outstanding,
    cycles: sideCycles,
    leakedPerCycle: rate ?? leakRate(growth, counts.outstanding),
    growth
  };
}
function totalFigures(p, sideCycles) {
  return figures(p.module, p.moduleCycles ?? p.cycles, sideCycles, p.leakedPerCycle);
}
function mergeCallers(callers) {
  const merged = /* @__PURE__ */ new Map();
  for (const c of callers) {
    const key = callerKey(c.caller);
    let m = merged.get(key);
    if (!m) {
      m = { key, inModule: c.inModule, counts: { allocs: 0, frees: 0, outstanding: 0 }, cycles: [] };
      merged.set(key, m);
    }
    if (c.inModule === true || c.inModule === null && m.inModule === false) m.inModule = c.inModule;
    if (c.location && !m.location) m.location = c.location;
    m.counts.allocs += c.allocs;
    m.counts.frees += c.frees;
    m.counts.outstanding += c.outstanding;
    for (const pc of c.perCycle) {
      let into = m.cycles.find((x) => x.cycle === pc.cycle);
      if (!into) {
        into = { cycle: pc.cycle, allocs: 0, frees: 0, outstanding: 0, outstandingAfter: 0 };
        m.cycles.push(into);
      }
      into.allocs += pc.allocs;
      into.frees += pc.frees;
      into.outstanding += pc.outstanding;
      into.outstandingAfter += pc.outstandingAfter;
    }
  }
  for (const m of merged.values()) m.cycles.sort((a, b) => a.cycle - b.cycle);
  return merged;
}
function leaks(f) {
  return f !== null && (f.leakedPerCycle > EPSILON || f.outstanding > 0);
}
function rowStatus(base, pr) {
  const b = leaks(base);
  const p = leaks(pr);
  if (!b && !p) return "balanced";
  if (!b && p) return "new-leak";
  if (b && !p) return "fixed";
  const change = (pr?.leakedPerCycle ?? 0) - (base?.leakedPerCycle ?? 0);
  if (change > EPSILON) return "worse";
  if (change < -EPSILON) return "better";
  return "same-leak";
}
function pairKey(p) {
  return `${p.alloc}:${p.free}`;
}
function objects(n) {
  return `${fmt(n)} ${n === 1 ? "object" : "objects"}`;
}
function fmt(n) {
  return String(round2(n));
}
function rows(base, pr) {
  const out = [];
  const names = [];
  for (const p of [...pr.pairs, ...base.pairs]) if (!names.includes(pairKey(p))) names.push(pairKey(p));
  for (const name of names) {
    const b = base.pairs.find((p2) => pairKey(p2) === name) ?? null;
    const p = pr.pairs.find((x) => pairKey(x) === name) ?? null;
    const bf = b ? totalFigures(b, base.cycles) : null;
    const pf = p ? totalFigures(p, pr.cycles) : null;
    out.push({
      pair: name,
      caller: MODULE_TOTAL,
      inModule: true,
      base: bf,
      pr: pf,
      change: round2((pf?.leakedPerCycle ?? 0) - (bf?.leakedPerCycle ?? 0)),
      status: rowStatus(bf, pf),
      total: true
    });
    const bc = b ? mergeCallers(b.callers) : /* @__PURE__ */ new Map();
    const pc = p ? mergeCallers(p.callers) : /* @__PURE__ */ new Map();
    const countedOnly = (p ?? b)?.method === "function" || b?.method === "function" && p?.method === "function";
    const callerRows = [];
    for (const key of /* @__PURE__ */ new Set([...pc.keys(), ...bc.keys()])) {
      const bm = bc.get(key);
      const pm = pc.get(key);
      const bfig = bm ? figures(bm.counts, bm.cycles, base.cycles) : null;
      const pfig = pm ? figures(pm.counts, pm.cycles, pr.cycles) : null;
      const inModule = pm?.inModule === true || bm?.inModule === true ? true : (pm ?? bm).inModule;
      const location = pm?.location ?? bm?.location;
      callerRows.push({
        pair: name,
        caller: key,
        inModule,
        ...location ? { location } : {},
        base: bfig,
        pr: pfig,
        change: round2((pfig?.leakedPerCycle ?? 0) - (bfig?.leakedPerCycle ?? 0)),
        status: countedOnly ? "unknown" : rowStatus(bfig, pfig),
        ...countedOnly ? { countedOnly: true } : {}
      });
    }
    callerRows.sort(
      (x, y) => Number(y.inModule !== false) - Number(x.inModule !== false) || (y.pr?.leakedPerCycle ?? 0) - (x.pr?.leakedPerCycle ?? 0) || (y.pr?.allocs ?? 0) - (x.pr?.allocs ?? 0) || x.caller.localeCompare(y.caller)
    );
    out.push(...callerRows);
  }
  return out;
}
function sideSummary(a) {
  return { complete: a.complete, lostEvents: a.lostEvents, cycles: a.cycles };
}
function incompleteReason(side2, a) {
  if (a.lostEvents > 0) return `the ${side2} trace lost ${a.lostEvents} events`;
  return `the ${side2} trace is incomplete${a.problems.length ? `: ${a.problems[0]}` : ""}`;
}
function sumRate(rs, side2) {
  return round2(rs.reduce((s, r) => s + (r[side2]?.leakedPerCycle ?? 0), 0));
}
function leakSite(all, pair) {
  const sites = all.filter((r) => r.pair === pair && !r.total && !r.countedOnly && r.inModule !== false && leaks(r.pr));
  sites.sort((a, b) => (b.pr?.leakedPerCycle ?? 0) - (a.pr?.leakedPerCycle ?? 0) || (b.pr?.outstanding ?? 0) - (a.pr?.outstanding ?? 0));
  return sites.length > 0 ? sites[0].caller : null;
}
function compare(base, pr, failOn = "new-leak") {
  const all = rows(base, pr);
  const totals = all.filter((r) => r.total);
  const reasons = [];
  const prRate = sumRate(totals, "pr");
  const baseRate = sumRate(totals, "base");
  let verdict;
  let headline;
  const failing = totals.filter(
    (r) => failOn === "any-leak" ? leaks(r.pr) : failOn === "new-leak" ? r.status === "new-leak" || r.status === "worse" : false
  );
  const details2 = [];
  for (const r of failing) {
    const site = leakSite(all, r.pair);
    const pf = r.pr;
    const what = pf.leakedPerCycle > EPSILON ? `${objects(pf.leakedPerCycle)}/cycle` : `${objects(pf.outstanding)} outstanding`;
    const b = r.base ? pf.leakedPerCycle > EPSILON ? fmt(r.base.leakedPerCycle) : fmt(Math.max(r.base.outstanding, 0)) : "not traced";
    details2.push(`PR leaks ${what} ${site ? `at ${site}` : `on ${r.pair}`} (base ${b})`);
    reasons.push(`${r.pair}: PR leaks ${what}${site ? ` at ${site}` : ""} (base ${b})`);
  }
  if (!base.complete || !pr.complete) {
    verdict = "inconclusive";
    const why = [!pr.complete ? incompleteReason("PR", pr) : "", !base.complete ? incompleteReason("base", base) : ""].filter((s) => s !== "");
    headline = `\u26A0\uFE0F inconclusive: ${why.join("; ")}`;
    reasons.unshift(...why.map((w) => `${w}: counts from such a trace are no evidence of balance`));
  } else if (failing.length > 0) {
    verdict = "fail";
    headline = `\u274C fail: ${details2[0]}${failing.length > 1 ? ` (+${failing.length - 1} more pair${failing.length > 2 ? "s" : ""})` : ""}`;
  } else {
    verdict = "pass";
    const figures2 = `PR leaks ${fmt(prRate)}/cycle (base ${fmt(baseRate)}/cycle)`;
    if (failOn === "never") headline = `\u2705 pass (fail-on: never): ${figures2}`;
    else if (failOn === "any-leak") headline = `\u2705 pass: the PR leaks nothing \u2014 ${figures2}`;
    else headline = `\u2705 pass: no new leak \u2014 ${figures2}`;
  }
  return { verdict, failOn, headline, reasons, rows: all, base: sideSummary(base), pr: sideSummary(pr) };
}
var MODULE_TOTAL, EPSILON;
var init_compare = __esm({
  "src/core/compare.ts"() {
    "use strict";
    init_frames();
    init_leak_rate();
    MODULE_TOTAL = "all module call sites";
    EPSILON = 5e-3;
  }
});

// src/report/labels.ts
function signed(n) {
  return n > 0 ? `+${fmt(n)}` : fmt(n);
}
var STATUS_LABEL;
var init_labels = __esm({
  "src/report/labels.ts"() {
    "use strict";
    init_compare();
    STATUS_LABEL = {
      balanced: "\u2705 balanced",
      "new-leak": "\u274C new leak",
      worse: "\u274C worse",
      "same-leak": "\u26A0\uFE0F same leak",
      better: "\u2B07\uFE0F better",
      fixed: "\u2705 fixed",
      unknown: "\xB7"
    };
  }
});

// src/report/text.ts
function table(header, rows2, rightAligned) {
  const widths = header.map((h, c) => Math.max(h.length, ...rows2.map((r) => r[c].length)));
  const line = (cells) => cells.map((v, c) => rightAligned(c) ? v.padStart(widths[c]) : v.padEnd(widths[c])).join("  ").trimEnd();
  return [line(header), ...rows2.map(line)];
}
function side(f, row) {
  if (!f) return ["-", "-", "-"];
  return [String(f.allocs), String(f.frees), row.countedOnly ? "." : fmt(f.leakedPerCycle)];
}
function where(inModule) {
  return inModule === true ? "yes" : inModule === false ? "no" : "?";
}
function renderText(c) {
  const header = ["pair / call site", "base allocs", "frees", "leaked/cycle", "PR allocs", "frees", "leaked/cycle", "change", "status"];
  const rows2 = c.rows.map((r) => [
    r.total ? r.pair : `  ${r.caller}${r.inModule === false ? " (outside)" : ""}`,
    ...side(r.base, r),
    ...side(r.pr, r),
    r.countedOnly ? "." : signed(r.change),
    STATUS_LABEL[r.status]
  ]);
  const out = [c.headline, "", ...table(header, rows2, (col) => col >= 1 && col <= 7)];
  out.push("", `base: ${c.base.cycles} cycle(s)${c.base.complete ? "" : ", INCOMPLETE"} \xB7 PR: ${c.pr.cycles} cycle(s)${c.pr.complete ? "" : ", INCOMPLETE"} \xB7 fail-on: ${c.failOn}`);
  if (c.reasons.length) out.push("", ...c.reasons.map((r) => `- ${r}`));
  return out.join("\n") + "\n";
}
function renderAnalysisText(a) {
  const out = [];
  const state = a.complete ? "complete" : `INCOMPLETE${a.lostEvents ? ` (${a.lostEvents} events lost)` : ""}`;
  out.push(`${a.cycles} cycle${a.cycles === 1 ? "" : "s"}, trace ${state}`);
  for (const p of a.pairs) {
    out.push("", `${p.alloc}:${p.free} (${p.method === "function" ? "function tracer: calls counted" : `${p.method}: objects paired by address`})`);
    const rows2 = p.callers.map((c) => [`  ${c.caller}`, where(c.inModule), String(c.allocs), String(c.frees), String(c.outstanding)]);
    rows2.push(["  all call sites", "", String(p.allocs), String(p.frees), String(p.outstanding)]);
    rows2.push(["  module call sites", "", String(p.module.allocs), String(p.module.frees), String(p.module.outstanding)]);
    out.push(...table(["  call site", "in module", "allocs", "frees", "outstanding"], rows2, (col) => col >= 2));
    const growth = (p.moduleCycles ?? p.cycles).filter((c) => c.cycle >= 1).map((c) => c.outstandingAfter);
    out.push(`  leaked per cycle (module): ${fmt(p.leakedPerCycle)}${a.cycles >= 2 ? `; outstanding after each cycle: ${growth.join(" ")}` : ""}`);
    if (p.unmatchedFrees > 0) out.push(`  frees of objects allocated before the trace: ${p.unmatchedFrees}`);
    for (const o of p.objects.filter((x) => x.inModule !== false).slice(0, 20)) {
      out.push(`  outstanding ${o.address} from ${o.caller}${o.location ? ` (${o.location})` : ""}, cycle ${o.cycle}${o.stack?.length ? ` [${o.stack.join(" <- ")}]` : ""}`);
    }
  }
  for (const x of a.crossCheck ?? []) out.push("", `cross-check ${x.pair}: probes ${x.kprobeAllocs}, function tracer ${x.functionAllocs}: ${x.agree ? "agree" : "DIFFER"}`);
  if (a.slab?.length) out.push("", `slabinfo: ${a.slab.slice(0, 10).map((s) => `${s.cache} ${s.delta > 0 ? "+" : ""}${s.delta}`).join(", ")}`);
  if (a.problems.length) out.push("", "problems:", ...a.problems.map((p) => `- ${p}`));
  return out.join("\n") + "\n";
}
var init_text = __esm({
  "src/report/text.ts"() {
    "use strict";
    init_compare();
    init_labels();
  }
});

// src/core/locations.ts
function moduleCallers(result) {
  const out = /* @__PURE__ */ new Set();
  for (const p of result.pairs) {
    for (const c of p.callers) if (c.inModule !== false) out.add(c.caller);
    for (const o of p.objects) {
      if (o.inModule !== false) out.add(o.caller);
    }
  }
  return [...out];
}
function applyLocations(result, locations) {
  for (const p of result.pairs) {
    for (const c of p.callers) {
      const loc = locations.get(c.caller);
      if (loc) c.location = loc;
    }
    for (const o of p.objects) {
      const loc = locations.get(o.caller);
      if (loc) o.location = loc;
    }
  }
}
var init_locations = __esm({
  "src/core/locations.ts"() {
    "use strict";
  }
});

// src/symbols-io.ts
import { execFile } from "node:child_process";
import { dirname, join, relative, isAbsolute } from "node:path";
import { promisify } from "node:util";
async function readNm(koPath) {
  const { stdout } = await run("nm", ["-f", "sysv", "--defined-only", koPath], { maxBuffer: 64 << 20 });
  return stdout;
}
async function lookUpLines(koPath, offsets) {
  const found = /* @__PURE__ */ new Map();
  const bySection = /* @__PURE__ */ new Map();
  for (const o of offsets) bySection.set(o.section, [...bySection.get(o.section) ?? [], o]);
  for (const [section, list] of bySection) {
    const { stdout } = await run("addr2line", ["-e", koPath, "-j", section, ...list.map((o) => `0x${o.offset.toString(16)}`)], { maxBuffer: 16 << 20 });
    const lines2 = stdout.split("\n");
    list.forEach((o, k) => {
      const text = (lines2[k] ?? "").replace(/\s*\(discriminator \d+\)$/, "").trim();
      if (text === "" || text.startsWith("??")) return;
      const colon = text.lastIndexOf(":");
      const file = text.slice(0, colon);
      const rel = isAbsolute(file) ? relative(dirname(koPath), file) : file;
      found.set(o.caller, `${rel.startsWith("..") ? file : rel}${text.slice(colon)}`);
    });
  }
  return found;
}
async function addLocations(result, map, koPath) {
  const offsets = map.offsets(moduleCallers(result));
  if (offsets.length === 0) return;
  applyLocations(result, await lookUpLines(koPath, offsets));
}
var run;
var init_symbols_io = __esm({
  "src/symbols-io.ts"() {
    "use strict";
    init_module_map();
    init_locations();
    run = promisify(execFile);
  }
});

// src/cli/args.ts
function parseArgs(command, args, spec) {
  const values = /* @__PURE__ */ new Map();
  const flags = /* @__PURE__ */ new Set();
  const positional = [];
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (!arg.startsWith("--") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).trim();
    if (spec.flags.includes(name)) {
      if (eq > 0) throw new UsageError(`${command}: --${name} takes no value`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      let value;
      if (eq > 0) value = arg.slice(eq + 1);
      else {
        value = args[++k];
        if (value === void 0 || value.startsWith("--") && value.length > 2) throw new UsageError(`${command}: --${name} needs a value`);
      }
      values.set(name, [...values.get(name) ?? [], value]);
    } else {
      const known = [...spec.values, ...spec.flags].map((o) => `--${o}`).join(", ");
      throw new UsageError(`${command}: unknown option --${name} (known: ${known})`);
    }
  }
  return { values, flags, positional };
}
var init_args = __esm({
  "src/cli/args.ts"() {
    "use strict";
    init_input_error();
  }
});

// src/cli/analyze.ts
var analyze_exports = {};
__export(analyze_exports, {
  ANALYZE_USAGE: () => ANALYZE_USAGE,
  analyzeCommand: () => analyzeCommand
});
import { readFileSync as readFileSync2 } from "node:fs";
function readSectionsFile(path) {
  let parsed;
  try {
    parsed = JSON.parse(readFileSync2(path, "utf8"));
  } catch (e) {
    throw new UsageError(`--sections ${path}: ${e.code ? "cannot be read" : "not JSON"}; expected {".text": "0xffffffffc0200000", ...}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === "string")) {
    throw new UsageError(`--sections ${path}: expected a JSON object of section name to address, e.g. {".text": "0xffffffffc0200000"}`);
  }
  return parsed;
}
async function analyzeCommand(args) {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(ANALYZE_USAGE);
    return 0;
  }
  const a = parseArgs("analyze", args, { values: ["trace", "pair", "stats", "slabinfo", "module", "ko", "nm", "sections"], flags: ["json"] });
  if (a.positional.length > 0) throw new UsageError(`analyze: unexpected argument "${a.positional[0]}"; give traces with --trace FILE`);
  const traces = a.values.get("trace") ?? [];
  if (traces.length === 0) throw new UsageError(`analyze: no trace given; ${ANALYZE_USAGE.slice(7)}`);
  if (traces.filter((t) => t === "-").length > 1) throw new UsageError("analyze: --trace - (standard input) can be given once");
  const pairTexts = a.values.get("pair") ?? [];
  if (pairTexts.length === 0) throw new UsageError("analyze: no pair given; add --pair ALLOC:FREE, e.g. --pair alloc_netdev_mqs:free_netdev");
  let pairs;
  try {
    pairs = pairTexts.flatMap((t) => parsePairList(t));
  } catch (e) {
    throw new UsageError(`analyze: --pair ${e.message}`);
  }
  const last = (name) => {
    const v = a.values.get(name);
    return v ? v[v.length - 1] : void 0;
  };
  const module = last("module") ?? "";
  const ko = last("ko");
  const nmFile = last("nm");
  const sections = last("sections") ? readSectionsFile(last("sections")) : {};
  let nmText = "";
  if (nmFile) {
    try {
      nmText = readFileSync2(nmFile, "utf8");
    } catch (e) {
      throw new UsageError(`--nm ${nmFile}: cannot be read (${e.code})`);
    }
  } else if (ko) {
    try {
      nmText = await readNm(ko);
    } catch (e) {
      throw new UsageError(`--ko ${ko}: nm could not read it (${(e.message.split("\n").find((l) => l.includes("nm:")) ?? e.message).trim()})`);
    }
  }
  const moduleName = module || (ko ? ko.replace(/^.*\//, "") : "");
  let map;
  try {
    map = new ModuleMap(moduleName, nmText, sections);
  } catch (e) {
    throw new UsageError(`--sections: ${e.message}`);
  }
  if ((nmFile || ko) && !map.hasSymbols) throw new UsageError(`${nmFile ? `--nm ${nmFile}` : `--ko ${ko}`}: no function symbol found; expected the output of nm on the module's .ko`);
  const result = await analyzeTraces({
    traces,
    pairs,
    stats: a.values.get("stats"),
    slabinfo: a.values.get("slabinfo"),
    moduleMap: map
  });
  if (ko) await addLocations(result, map, ko);
  process.stdout.write(a.flags.has("json") ? `${JSON.stringify(result, null, 2)}
` : renderAnalysisText(result));
  return 0;
}
var ANALYZE_USAGE;
var init_analyze = __esm({
  "src/cli/analyze.ts"() {
    "use strict";
    init_input_error();
    init_pair_spec();
    init_analyze_traces();
    init_module_map();
    init_text();
    init_symbols_io();
    init_args();
    ANALYZE_USAGE = "usage: alloc-balance analyze --trace FILE [--trace FILE ...] --pair ALLOC:FREE [--pair ...] [--stats FILE ...] [--slabinfo FILE ...] [--module NAME] [--ko FILE.ko] [--nm FILE] [--sections FILE.json] [--json]";
  }
});

// src/core/analysis-check.ts
function isCounts(v) {
  const o = v;
  return typeof o === "object" && o !== null && ["allocs", "frees", "outstanding"].every((k) => typeof o[k] === "number");
}
function checkAnalysis(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an object";
  const o = value;
  if (typeof o.complete !== "boolean") return '"complete" is missing';
  if (typeof o.lostEvents !== "number") return '"lostEvents" is missing';
  if (typeof o.cycles !== "number") return '"cycles" is missing';
  if (!Array.isArray(o.pairs)) return '"pairs" is missing';
  if (!Array.isArray(o.problems)) return '"problems" is missing';
  for (const [k, p] of o.pairs.entries()) {
    const r = p;
    if (!isCounts(p) || typeof r.alloc !== "string" || typeof r.free !== "string") return `pairs[${k}] lacks alloc, free or counts`;
    if (!isCounts(r.module) || typeof r.leakedPerCycle !== "number" || !Array.isArray(r.callers) || !Array.isArray(r.cycles) || !Array.isArray(r.objects)) {
      return `pairs[${k}] lacks module, leakedPerCycle, callers, cycles or objects`;
    }
    for (const [j, c] of r.callers.entries()) {
      const cc = c;
      if (!isCounts(c) || typeof cc.caller !== "string" || !Array.isArray(cc.perCycle)) return `pairs[${k}].callers[${j}] lacks caller, counts or perCycle`;
    }
  }
  return null;
}
var init_analysis_check = __esm({
  "src/core/analysis-check.ts"() {
    "use strict";
  }
});

// src/report/chart.ts
function series(values, length) {
  if (values.length === 0) return new Array(length).fill(0);
  const out = values.slice(0, length);
  while (out.length < length) out.push(values[values.length - 1]);
  return out;
}
function growthChart(row) {
  const base = row.base?.growth ?? [];
  const pr = row.pr?.growth ?? [];
  const n = Math.max(base.length, pr.length);
  if (n < 2) return "";
  const b = series(base, n);
  const p = series(pr, n);
  const max = Math.max(1, ...b, ...p);
  const min = Math.min(0, ...b, ...p);
  const padNote = base.length !== pr.length ? ` The shorter run is drawn flat after its last cycle (base ${base.length} cycles, PR ${pr.length}).` : "";
  return [
    "```mermaid",
    "xychart-beta",
    `    title "${row.pair}: outstanding after each cycle"`,
    `    x-axis "cycle" [${Array.from({ length: n }, (_, k) => k + 1).join(", ")}]`,
    `    y-axis "objects" ${min} --> ${max}`,
    `    line [${b.join(", ")}]`,
    `    line [${p.join(", ")}]`,
    "```",
    "",
    `First line: base ${JSON.stringify(b)}; second line: PR ${JSON.stringify(p)}.${padNote}`
  ].join("\n");
}
var init_chart = __esm({
  "src/report/chart.ts"() {
    "use strict";
  }
});

// src/report/markdown.ts
function cell(f, row) {
  if (!f) return ["\u2014", "\u2014", "\u2014"];
  return [String(f.allocs), String(f.frees), row.countedOnly ? "\xB7" : fmt(f.leakedPerCycle)];
}
function escapeCell(text) {
  return text.replace(/\|/g, "\\|").replace(/</g, "&lt;");
}
function callerCell(row) {
  if (row.total) return `**${row.pair}** (module)`;
  const where2 = row.inModule === true ? "" : row.inModule === false ? " (outside the module)" : "";
  const loc = row.location ? ` ${escapeCell(row.location)}` : "";
  return `&nbsp;&nbsp;\`${escapeCell(row.caller)}\`${loc}${where2}`;
}
function tableRow(row) {
  const change = row.countedOnly ? "\xB7" : signed(row.change);
  const cells = [callerCell(row), ...cell(row.base, row), ...cell(row.pr, row), change, STATUS_LABEL[row.status]];
  return `| ${cells.join(" | ")} |`;
}
function details(summary, body) {
  return `<details><summary>${summary}</summary>

${body}

</details>`;
}
function objectsBlock(side2, pairs) {
  const lines2 = [];
  for (const p of pairs) {
    const objs = p.objects.filter((o) => o.inModule !== false);
    if (objs.length === 0) continue;
    lines2.push(`**${p.alloc}:${p.free}**`, "");
    for (const o of objs) {
      const loc = o.location ? ` (${o.location})` : "";
      const stack = o.stack && o.stack.length ? `<br>stack: \`${escapeCell(o.stack.join(" \u2190 "))}\`` : "";
      lines2.push(`- \`${o.address}\` from \`${escapeCell(o.caller)}\`${loc}, cycle ${o.cycle}${stack}`);
    }
    lines2.push("");
  }
  if (lines2.length === 0) return null;
  return details(`Outstanding objects (${side2})`, lines2.join("\n").trimEnd());
}
function growthBlock(c) {
  const totals = c.rows.filter((r) => r.total);
  const parts = [];
  for (const r of totals) {
    const chart = growthChart(r);
    const b = r.base?.growth ?? [];
    const p = r.pr?.growth ?? [];
    if (b.length < 2 && p.length < 2) continue;
    parts.push(`**${r.pair}** \u2014 outstanding (module call sites) after each cycle: base ${JSON.stringify(b)}, PR ${JSON.stringify(p)}`);
    if (chart) parts.push("", chart);
    parts.push("");
  }
  if (parts.length === 0) return null;
  return details("Outstanding objects after each cycle", parts.join("\n").trimEnd());
}
function problemsBlock(c, base, pr) {
  const lines2 = [
    ...c.reasons.map((r) => `- ${r}`),
    ...(pr?.problems ?? []).map((p) => `- PR: ${p}`),
    ...(base?.problems ?? []).map((p) => `- base: ${p}`)
  ];
  const unmatched = [
    ...(pr?.pairs ?? []).filter((p) => p.unmatchedFrees > 0).map((p) => `- PR: ${p.alloc}:${p.free}: ${p.unmatchedFrees} free(s) of objects allocated before the trace began`),
    ...(base?.pairs ?? []).filter((p) => p.unmatchedFrees > 0).map((p) => `- base: ${p.alloc}:${p.free}: ${p.unmatchedFrees} free(s) of objects allocated before the trace began`)
  ];
  const all = [...lines2, ...unmatched];
  if (all.length === 0) return null;
  return details("Reasons and problems", all.join("\n"));
}
function crossCheckBlock(base, pr) {
  const lines2 = [];
  for (const [side2, a] of [
    ["PR", pr],
    ["base", base]
  ]) {
    for (const x of a?.crossCheck ?? []) {
      lines2.push(`- ${side2} ${x.pair}: probes ${x.kprobeAllocs} allocations, function tracer ${x.functionAllocs} calls ${x.agree ? "\u2705 agree" : "\u26A0\uFE0F differ"}`);
    }
    const slab = (a?.slab ?? []).slice(0, 10);
    if (slab.length) {
      lines2.push(`- ${side2} /proc/slabinfo (active objects): ${slab.map((s) => `${s.cache} ${s.delta > 0 ? "+" : ""}${s.delta}`).join(", ")}`);
    }
  }
  if (lines2.length === 0) return null;
  return details("Cross-checks", lines2.join("\n"));
}
function sides(c) {
  const side2 = (name, s) => `${name}: ${s.cycles} cycle${s.cycles === 1 ? "" : "s"}${s.complete ? "" : `, incomplete${s.lostEvents ? ` (${s.lostEvents} events lost)` : ""}`}`;
  return `<sub>${side2("base", c.base)} \xB7 ${side2("PR", c.pr)} \xB7 fail-on: ${c.failOn}</sub>`;
}
function cutNote(rows2, blocks, limit) {
  const what = [rows2 ? `${rows2} call-site row${rows2 === 1 ? "" : "s"}` : "", blocks ? `${blocks} detail section${blocks === 1 ? "" : "s"}` : ""].filter((s) => s !== "").join(" and ");
  return `> \u2702\uFE0F Cut to fit ${limit.toLocaleString("en-US")} characters: ${what} left out. The JSON report holds everything.`;
}
function renderMarkdown(c, opts = {}) {
  const limit = opts.limit ?? COMMENT_LIMIT;
  const head = [...opts.title === "" ? [] : [`### ${opts.title ?? "alloc-balance"}`, ""], `**${c.headline}**`, ""];
  const rows2 = c.rows;
  const blocks = [growthBlock(c), objectsBlock("PR", opts.pr?.pairs ?? []), objectsBlock("base", opts.base?.pairs ?? []), problemsBlock(c, opts.base, opts.pr), crossCheckBlock(opts.base, opts.pr)].filter(
    (b) => b !== null
  );
  const rowLines = rows2.map(tableRow);
  const footer = ["", sides(c)];
  const assemble = (keptRows, keptBlocks2, note) => {
    const lines2 = [...head];
    if (rows2.length > 0) lines2.push(...TABLE_HEAD, ...rowLines.filter((_, k) => keptRows[k]));
    else lines2.push("_No pair was traced._");
    lines2.push(...footer);
    if (note) lines2.push("", note);
    for (let k = 0; k < keptBlocks2; k++) lines2.push("", blocks[k]);
    return lines2.join("\n") + "\n";
  };
  const kept = rows2.map(() => true);
  let keptBlocks = blocks.length;
  let text = assemble(kept, keptBlocks, "");
  if (text.length <= limit) return text;
  const noteFor = () => cutNote(kept.filter((k) => !k).length, blocks.length - keptBlocks, limit);
  while (keptBlocks > 0) {
    keptBlocks--;
    text = assemble(kept, keptBlocks, noteFor());
    if (text.length <= limit) return text;
  }
  let length = text.length;
  for (const totalPass of [false, true]) {
    for (let k = rows2.length - 1; k >= 0 && length > limit; k--) {
      if (!kept[k] || Boolean(rows2[k].total) !== totalPass) continue;
      const before = noteFor().length;
      kept[k] = false;
      length -= rowLines[k].length + 1;
      length += noteFor().length - before;
    }
  }
  text = assemble(kept, 0, noteFor());
  if (text.length <= limit) return text;
  const verdict = `**${c.headline}**

${cutNote(rows2.length, blocks.length, limit)}
`;
  return verdict.length <= limit ? verdict : verdict.slice(0, limit);
}
var COMMENT_LIMIT, TABLE_HEAD;
var init_markdown = __esm({
  "src/report/markdown.ts"() {
    "use strict";
    init_compare();
    init_chart();
    init_labels();
    COMMENT_LIMIT = 65536;
    TABLE_HEAD = [
      "| Pair / call site | Base allocs | Base frees | Base leaked/cycle | PR allocs | PR frees | PR leaked/cycle | Change | Status |",
      "|:--|--:|--:|--:|--:|--:|--:|--:|:--|"
    ];
  }
});

// src/cli/compare.ts
var compare_exports = {};
__export(compare_exports, {
  COMPARE_USAGE: () => COMPARE_USAGE,
  EXIT_CODES: () => EXIT_CODES,
  compareCommand: () => compareCommand
});
import { readFileSync as readFileSync3 } from "node:fs";
function load(path, side2) {
  let text;
  try {
    text = readFileSync3(path, "utf8");
  } catch (e) {
    throw new UsageError(`compare: ${side2} ${path}: cannot be read (${e.code ?? e.message})`);
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`compare: ${side2} ${path}: not JSON; expected the output of "alloc-balance analyze --json"`);
  }
  const problem = checkAnalysis(parsed);
  if (problem) throw new UsageError(`compare: ${side2} ${path}: not an analysis (${problem}); expected the output of "alloc-balance analyze --json"`);
  return parsed;
}
async function compareCommand(args) {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(COMPARE_USAGE);
    return 0;
  }
  const a = parseArgs("compare", args, { values: ["fail-on"], flags: ["json", "markdown"] });
  if (a.positional.length !== 2) throw new UsageError(`compare: expected two analyses, base then PR; ${COMPARE_USAGE}`);
  const policies = a.values.get("fail-on") ?? ["new-leak"];
  const failOn = policies[policies.length - 1];
  if (!POLICIES.includes(failOn)) throw new UsageError(`compare: --fail-on "${failOn}" is not a policy; use one of ${POLICIES.join(", ")}`);
  if (a.flags.has("json") && a.flags.has("markdown")) throw new UsageError("compare: choose one of --json and --markdown");
  const base = load(a.positional[0], "base");
  const pr = load(a.positional[1], "PR");
  const c = compare(base, pr, failOn);
  if (a.flags.has("json")) process.stdout.write(`${JSON.stringify(c, null, 2)}
`);
  else if (a.flags.has("markdown")) process.stdout.write(renderMarkdown(c, { base, pr }));
  else process.stdout.write(renderText(c));
  return EXIT_CODES[c.verdict];
}
var COMPARE_USAGE, POLICIES, EXIT_CODES;
var init_compare2 = __esm({
  "src/cli/compare.ts"() {
    "use strict";
    init_compare();
    init_analysis_check();
    init_markdown();
    init_text();
    init_input_error();
    init_args();
    COMPARE_USAGE = "usage: alloc-balance compare BASE.json PR.json [--fail-on new-leak|any-leak|never] [--json|--markdown]";
    POLICIES = ["new-leak", "any-leak", "never"];
    EXIT_CODES = { pass: 0, fail: 1, inconclusive: 2 };
  }
});

// src/lab/command.ts
import { spawn } from "node:child_process";
async function mustRun(runner, cmd, args, opts) {
  const r = await runner.run(cmd, args, opts);
  if (r.code !== 0) {
    const tail2 = (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ");
    throw new UsageError(`\`${[cmd, ...args].join(" ")}\` failed (exit ${r.code}): ${tail2}`);
  }
  return r.stdout;
}
var spawnRunner;
var init_command = __esm({
  "src/lab/command.ts"() {
    "use strict";
    init_input_error();
    spawnRunner = {
      run(cmd, args, opts = {}) {
        return new Promise((resolve2, reject) => {
          const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env, cwd: opts.cwd });
          const out = [];
          const err = [];
          child.stdout.on("data", (b) => out.push(b));
          child.stderr.on("data", (b) => err.push(b));
          child.on(
            "error",
            (e) => reject(e.code === "ENOENT" ? new UsageError(`${cmd} is not installed (needed by the VM lab)`) : e)
          );
          child.on(
            "close",
            (code) => resolve2({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") })
          );
        });
      }
    };
  }
});

// src/lab/cpio.ts
function hex8(n) {
  return n.toString(16).padStart(8, "0");
}
function pad4(n) {
  return Buffer.alloc((4 - n % 4) % 4);
}
function record(ino, name, mode, data, rdev = [0, 0]) {
  const nameBuf = Buffer.from(`${name}\0`, "utf8");
  const header = "070701" + [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0].map(hex8).join("");
  const head = Buffer.concat([Buffer.from(header, "ascii"), nameBuf]);
  return [head, pad4(head.length), data, pad4(data.length)];
}
function cpioArchive(entries) {
  const parts = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    switch (e.kind) {
      case "dir":
        parts.push(...record(ino++, name, S_IFDIR | (e.mode ?? 493), Buffer.alloc(0)));
        break;
      case "file":
        parts.push(...record(ino++, name, S_IFREG | (e.mode ?? 420), e.data));
        break;
      case "symlink":
        parts.push(...record(ino++, name, S_IFLNK | 511, Buffer.from(e.target, "utf8")));
        break;
      case "chardev":
        parts.push(...record(ino++, name, S_IFCHR | (e.mode ?? 384), Buffer.alloc(0), [e.major, e.minor]));
        break;
    }
  }
  parts.push(...record(0, "TRAILER!!!", 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
var S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR;
var init_cpio = __esm({
  "src/lab/cpio.ts"() {
    "use strict";
    S_IFDIR = 16384;
    S_IFREG = 32768;
    S_IFLNK = 40960;
    S_IFCHR = 8192;
  }
});

// src/lab/guest-scripts.ts
function initScript(modules) {
  const opts9p = `trans=virtio,version=9p2000.L,msize=${NINEP_MSIZE}`;
  return `#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
halt_now() { sync; poweroff -f; reboot -f; echo o > /proc/sysrq-trigger; sleep 60; }
fail() { echo "${MARKER2} setup-failed $*"; halt_now; }
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "${MARKER2} init $(cut -d' ' -f1 /proc/uptime)"
for m in ${modules.join(" ")}; do insmod "$m" || fail "insmod $m"; done
ctl=
for w in $(cat /proc/cmdline); do case "$w" in ${CTL_PARAM}=*) ctl="\${w#*=}";; esac; done
[ -n "$ctl" ] || fail "no ${CTL_PARAM}= on the kernel command line"
mkdir -p /mnt/host /mnt/rw /newroot
mount -t 9p -o ${opts9p},cache=loose,ro ${HOSTROOT_TAG} /mnt/host || fail "mount of the host root over 9p"
. "/mnt/host$ctl/guest.env" || fail "cannot read $ctl/guest.env"
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot || fail "overlay over the host root"
R=/newroot
mkdir -p "$R$OUT" && mount -t 9p -o ${opts9p} ${OUT_TAG} "$R$OUT" || fail "mount of $OUT over 9p"
mount -t proc proc $R/proc || fail "proc"
mount -t sysfs sysfs $R/sys || fail "sysfs"
mount -t devtmpfs devtmpfs $R/dev || fail "devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts || fail "devpts"
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm || fail "/dev/shm"
mount -t tracefs tracefs $R/sys/kernel/tracing || fail "tracefs"
mount -t debugfs debugfs $R/sys/kernel/debug || fail "debugfs"
mount -t tmpfs -o mode=0755 tmpfs $R/run || fail "/run"
echo "${MARKER2} $NONCE job-start $(cut -d' ' -f1 /proc/uptime)"
chroot $R /bin/sh "$ctl/job.sh" </dev/null
rc=$?
echo "$rc" > "$R$OUT/${EXIT_CODE_FILE}"
sync
echo "${MARKER2} $NONCE job-exit $rc $(cut -d' ' -f1 /proc/uptime)"
halt_now
`;
}
var MARKER2, CTL_PARAM, EXIT_CODE_FILE, HOSTROOT_TAG, OUT_TAG, NINEP_MSIZE;
var init_guest_scripts = __esm({
  "src/lab/guest-scripts.ts"() {
    "use strict";
    MARKER2 = "alloc-balance-guest:";
    CTL_PARAM = "alloc_balance.ctl";
    EXIT_CODE_FILE = "guest-exit-code";
    HOSTROOT_TAG = "hostroot";
    OUT_TAG = "out";
    NINEP_MSIZE = 262144;
  }
});

// src/lab/lab-kernel.ts
import { existsSync, readFileSync as readFileSync4 } from "node:fs";
import { join as join2 } from "node:path";
function defaultLabDir(env = process.env) {
  return env[LAB_DIR_ENV] || "/var/cache/alloc-balance/lab";
}
function manifestPath(labDir) {
  return join2(labDir, "manifest.json");
}
function readManifest(labDir) {
  const file = manifestPath(labDir);
  if (!existsSync(file)) return { version: 1, kernels: {} };
  let parsed;
  try {
    parsed = JSON.parse(readFileSync4(file, "utf8"));
  } catch (error) {
    throw new UsageError(`lab manifest ${file} is not valid JSON (${error.message}); delete it and ${SETUP_HINT}`);
  }
  const m = parsed;
  if (m?.version !== 1 || typeof m.kernels !== "object" || m.kernels === null) {
    throw new UsageError(`lab manifest ${file} has an unknown format; delete it and ${SETUP_HINT}`);
  }
  return m;
}
function missingFiles(entry) {
  return [entry.vmlinux, entry.initrd, join2(entry.buildDir, "Makefile"), entry.modulesDir].filter((f) => !existsSync(f));
}
function compareReleases(a, b) {
  return a.localeCompare(b, "en", { numeric: true });
}
var LAB_DIR_ENV, SETUP_HINT;
var init_lab_kernel = __esm({
  "src/lab/lab-kernel.ts"() {
    "use strict";
    init_input_error();
    LAB_DIR_ENV = "ALLOC_BALANCE_LAB";
    SETUP_HINT = "run `sudo node dist/cli.js lab setup` (or `alloc-balance lab setup`) first";
  }
});

// src/lab/platform.ts
import { existsSync as existsSync2, readFileSync as readFileSync5 } from "node:fs";
function distroFromOsRelease(text) {
  const field = (k) => new RegExp(`^${k}="?([^"\\n]*)"?`, "m").exec(text)?.[1]?.toLowerCase() ?? "";
  const ids = [field("ID"), ...field("ID_LIKE").split(/\s+/)];
  if (ids.includes("ubuntu")) return "ubuntu";
  if (ids.includes("debian")) return "debian";
  return null;
}
function detectPlatform(opts = {}) {
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  if (uid !== 0) {
    throw new UsageError("lab setup installs packages and writes /var/cache: run it as root (sudo alloc-balance lab setup)");
  }
  const arch = opts.arch ?? process.arch;
  if (arch !== "x64") {
    throw new UsageError(`lab setup supports x86_64 hosts only (this one is ${arch})`);
  }
  const osRelease2 = opts.osRelease ?? (existsSync2("/etc/os-release") ? readFileSync5("/etc/os-release", "utf8") : "");
  const distro = distroFromOsRelease(osRelease2);
  if (!distro || opts.osRelease === void 0 && !existsSync2("/usr/bin/apt-get")) {
    throw new UsageError(
      "lab setup supports Debian and Ubuntu (apt-get) hosts only: run the VM target on a Debian or Ubuntu runner, or use target: host"
    );
  }
  return distro === "debian" ? { distro, headersMeta: "linux-headers-amd64", flavour: "-amd64" } : { distro, headersMeta: "linux-headers-generic", flavour: "-generic" };
}
var TOOL_PACKAGES;
var init_platform = __esm({
  "src/lab/platform.ts"() {
    "use strict";
    init_input_error();
    TOOL_PACKAGES = ["qemu-system-x86", "busybox-static", "cpio", "xz-utils", "kmod"];
  }
});

// src/lab/vmlinux.ts
import { closeSync, openSync, readFileSync as readFileSync6, readSync, rmSync, writeFileSync } from "node:fs";
function findAll(data, magic, limit = 8) {
  const found = [];
  for (let at = data.indexOf(magic); at >= 0 && found.length < limit; at = data.indexOf(magic, at + 1)) found.push(at);
  return found;
}
function startsWithElf(file) {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(ELF_MAGIC);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
async function extractVmlinux(runner, bzImage, out) {
  const data = readFileSync6(bzImage);
  const tail2 = `${out}.payload`;
  try {
    for (const codec of CODECS) {
      for (const offset of findAll(data, codec.magic)) {
        writeFileSync(tail2, data.subarray(offset));
        await runner.run("sh", ["-c", `${codec.command} > "$2" 2>/dev/null`, "sh", tail2, out]);
        if (startsWithElf(out)) return codec.name;
      }
    }
    rmSync(out, { force: true });
    return null;
  } finally {
    rmSync(tail2, { force: true });
  }
}
var CODECS, ELF_MAGIC;
var init_vmlinux = __esm({
  "src/lab/vmlinux.ts"() {
    "use strict";
    CODECS = [
      { name: "xz", magic: Buffer.from([253, 55, 122, 88, 90, 0]), command: 'xz -dc --single-stream "$1"' },
      { name: "zstd", magic: Buffer.from([40, 181, 47, 253]), command: 'zstd -dc "$1"' },
      { name: "lz4", magic: Buffer.from([2, 33, 76, 24]), command: 'lz4 -dc "$1"' },
      { name: "gzip", magic: Buffer.from([31, 139, 8]), command: 'gzip -dc "$1"' }
    ];
    ELF_MAGIC = Buffer.from([127, 69, 76, 70]);
  }
});

// src/lab/setup.ts
import { existsSync as existsSync3, mkdirSync, readdirSync, readFileSync as readFileSync7, renameSync, rmSync as rmSync2, writeFileSync as writeFileSync2 } from "node:fs";
import { join as join3 } from "node:path";
async function setupLab(opts = {}) {
  const runner = opts.runner ?? spawnRunner;
  const log = opts.log ?? (() => {
  });
  const labDir = opts.labDir ?? defaultLabDir();
  const platform = opts.platform ?? detectPlatform();
  const steps = [];
  const step = async (name, fn) => {
    const t0 = performance.now();
    const value = await fn();
    const seconds2 = round((performance.now() - t0) / 1e3);
    steps.push({ name, seconds: seconds2 });
    log(`${name}: ${seconds2} s`);
    return value;
  };
  const apt = new Apt(runner, log);
  await step("packages", () => apt.ensureInstalled([...TOOL_PACKAGES, ...opts.release ? [`linux-headers-${opts.release}`] : []]));
  let release = opts.release || newestHeaders(await apt.installedHeaders(platform), platform);
  const manifest = readManifest(labDir);
  const known = release ? manifest.kernels[release] : void 0;
  if (known && missingFiles(known).length === 0) {
    log(`kernel ${release} already prepared in ${labDir}`);
    return known;
  }
  if (!release) {
    await step("headers", () => apt.ensureInstalled([platform.headersMeta]));
    release = newestHeaders(await apt.installedHeaders(platform), platform);
    if (!release) throw new UsageError(`${platform.headersMeta} is installed but no linux-headers-*${platform.flavour} package is`);
  }
  const buildDir = `/lib/modules/${release}/build`;
  if (!existsSync3(join3(buildDir, "Makefile"))) {
    throw new UsageError(`headers of ${release} are installed but ${buildDir}/Makefile is missing; reinstall linux-headers-${release}`);
  }
  const kernelDir = join3(labDir, release);
  const imageDir = join3(kernelDir, "image");
  const image = await step("download image", async () => {
    rmSync2(kernelDir, { recursive: true, force: true });
    mkdirSync(kernelDir, { recursive: true });
    return apt.downloadImage(release, await apt.installedVersion(`linux-headers-${release}`), kernelDir);
  });
  await step("extract image", async () => {
    for (const deb of image.debs) {
      await mustRun(runner, "dpkg-deb", ["-x", deb, imageDir]);
      rmSync2(deb, { force: true });
    }
  });
  const modulesDir = join3(imageDir, "lib/modules", release);
  const bzImage = join3(imageDir, "boot", `vmlinuz-${release}`);
  if (!existsSync3(bzImage) || !existsSync3(modulesDir)) {
    throw new UsageError(`${image.name} ${image.version} has no boot/vmlinuz-${release} or lib/modules/${release}`);
  }
  const vmlinux = join3(kernelDir, "vmlinux");
  const bootMode = await step("extract vmlinux", async () => {
    const config = join3(imageDir, "boot", `config-${release}`);
    const pvh = existsSync3(config) && /^CONFIG_PVH=y$/m.test(readFileSync7(config, "utf8"));
    if (pvh && await extractVmlinux(runner, bzImage, vmlinux)) return "pvh";
    log(`no PVH-bootable vmlinux in ${bzImage}: the VM boots the compressed image (slower)`);
    renameSync(bzImage, vmlinux);
    return "bzimage";
  });
  const initrd = join3(kernelDir, "initrd.cpio");
  await step("initramfs", async () => {
    await mustRun(runner, "depmod", ["-b", imageDir, release]);
    const modules = await moduleLoadOrder(runner, imageDir, release);
    const entries = await initramfsEntries(runner, modules);
    writeFileSync2(`${initrd}.tmp`, cpioArchive(entries));
    renameSync(`${initrd}.tmp`, initrd);
  });
  const entry = {
    release,
    vmlinux,
    initrd,
    buildDir,
    modulesDir,
    imagePackage: image.name,
    imageVersion: image.version,
    bootMode,
    preparedAt: (/* @__PURE__ */ new Date()).toISOString(),
    steps
  };
  writeManifestEntry(labDir, entry);
  return entry;
}
function round(n) {
  return Math.round(n * 100) / 100;
}
function newestHeaders(installed, platform) {
  const releases = installed.filter((p) => p.endsWith(platform.flavour) && /^linux-headers-\d/.test(p)).map((p) => p.slice("linux-headers-".length));
  return releases.sort(compareReleases).at(-1) ?? "";
}
function writeManifestEntry(labDir, entry) {
  const manifest = readManifest(labDir);
  manifest.kernels[entry.release] = entry;
  const file = manifestPath(labDir);
  writeFileSync2(`${file}.${process.pid}.tmp`, `${JSON.stringify(manifest, null, 2)}
`);
  renameSync(`${file}.${process.pid}.tmp`, file);
}
async function moduleLoadOrder(runner, imageDir, release) {
  const order = [];
  for (const name of GUEST_MODULES) {
    const out = await mustRun(runner, "modprobe", ["-d", imageDir, "-S", release, "--show-depends", name]);
    for (const line of out.split("\n")) {
      const m = /^insmod (\S+)/.exec(line.trim());
      if (m && !order.includes(m[1])) order.push(m[1]);
    }
  }
  return order;
}
async function initramfsEntries(runner, modules) {
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((f) => existsSync3(f));
  if (!busybox) throw new UsageError("busybox-static is installed but /bin/busybox is missing");
  const entries = ["bin", "dev", "proc", "sys", "mnt", "newroot", "lib", "lib/modules"].map((path) => ({
    kind: "dir",
    path
  }));
  entries.push(
    { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
    { kind: "chardev", path: "dev/null", major: 1, minor: 3, mode: 438 },
    { kind: "file", path: "bin/busybox", data: readFileSync7(busybox), mode: 493 },
    { kind: "symlink", path: "bin/sh", target: "busybox" }
  );
  const inGuest = [];
  for (const [i, path] of modules.entries()) {
    const ext = Object.keys(DECOMPRESS).find((e) => path.endsWith(`.ko${e}`));
    const base = path.split("/").at(-1).replace(/\.ko(\.\w+)?$/, "");
    const data = ext ? Buffer.from(await mustRun(runner, "sh", ["-c", `${DECOMPRESS[ext]} -dc "$1" | base64 -w0`, "sh", path]), "base64") : readFileSync7(path);
    const target = `lib/modules/${String(i).padStart(2, "0")}-${base}.ko`;
    entries.push({ kind: "file", path: target, data });
    inGuest.push(`/${target}`);
  }
  entries.push({ kind: "file", path: "init", data: Buffer.from(initScript(inGuest)), mode: 493 });
  return entries;
}
var GUEST_MODULES, APT_ENV, DECOMPRESS, Apt;
var init_setup = __esm({
  "src/lab/setup.ts"() {
    "use strict";
    init_input_error();
    init_command();
    init_cpio();
    init_guest_scripts();
    init_lab_kernel();
    init_platform();
    init_vmlinux();
    GUEST_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"];
    APT_ENV = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    DECOMPRESS = { ".xz": "xz", ".zst": "zstd", ".gz": "gzip" };
    Apt = class {
      constructor(runner, log) {
        this.runner = runner;
        this.log = log;
      }
      runner;
      log;
      updated = false;
      async missing(packages) {
        const r = await this.runner.run("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Status}\n", ...packages]);
        const installed = new Set(
          r.stdout.split("\n").filter((l) => l.endsWith(" installed")).map((l) => l.split(" ")[0])
        );
        return packages.filter((p) => !installed.has(p));
      }
      async update() {
        if (this.updated) return;
        this.log("apt-get update");
        await mustRun(this.runner, "apt-get", ["update", "-q"], { env: APT_ENV });
        this.updated = true;
      }
      async ensureInstalled(packages) {
        const missing = await this.missing(packages);
        if (!missing.length) return;
        await this.update();
        this.log(`apt-get install ${missing.join(" ")}`);
        await mustRun(this.runner, "apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { env: APT_ENV });
      }
      async installedHeaders(platform) {
        const r = await this.runner.run("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Status}\n", `linux-headers-*${platform.flavour}`]);
        return r.stdout.split("\n").filter((l) => l.endsWith(" installed")).map((l) => l.split(" ")[0]);
      }
      /** The candidate version apt would download, or '' when apt does not know the package. */
      async candidate(pkg) {
        const r = await this.runner.run("apt-cache", ["policy", pkg]);
        const v = /Candidate:\s*(\S+)/.exec(r.stdout)?.[1] ?? "";
        return v === "(none)" ? "" : v;
      }
      async installedVersion(pkg) {
        return (await mustRun(this.runner, "dpkg-query", ["-W", "-f", "${Version}", pkg])).trim();
      }
      /**
       * Downloads the image of `release` (and, on Ubuntu, its modules packages) into `dir`, at the
       * version of the installed headers so that modules built against them load in the guest.
       */
      async downloadImage(release, version, dir) {
        const names = [`linux-image-${release}`, `linux-image-${release}-unsigned`, `linux-image-unsigned-${release}`];
        let found = await this.firstKnown(names);
        if (!found) {
          await this.update();
          found = await this.firstKnown(names);
        }
        if (!found) {
          throw new UsageError(
            `no kernel image package for ${release} in apt's sources (tried ${names.join(", ")}); choose another release with --kernel`
          );
        }
        const wanted = [found.name];
        for (const p of [`linux-modules-${release}`, `linux-modules-extra-${release}`]) {
          if (await this.candidate(p)) wanted.push(p);
        }
        const r = await this.runner.run("apt-get", ["download", "-q", "-o", "APT::Sandbox::User=root", ...wanted.map((p) => `${p}=${version}`)], {
          env: APT_ENV,
          cwd: dir
        });
        if (r.code !== 0) {
          throw new UsageError(
            `cannot download ${wanted.join(", ")} at version ${version}, the version of the installed linux-headers-${release} (apt offers ${found.version}): upgrade the headers (apt-get install linux-headers-${release}) or choose another release with --kernel (${r.stderr.trim().split("\n").at(-1)})`
          );
        }
        found.version = version;
        const debs = readdirSync(dir).filter((f) => f.endsWith(".deb")).map((f) => join3(dir, f));
        return { ...found, debs };
      }
      async firstKnown(names) {
        for (const name of names) {
          const version = await this.candidate(name);
          if (version) return { name, version };
        }
        return null;
      }
    };
  }
});

// src/cli/lab.ts
var lab_exports = {};
__export(lab_exports, {
  labCommand: () => labCommand
});
import { parseArgs as parseArgs2 } from "node:util";
async function labCommand(args) {
  const [sub, ...rest] = args;
  if (sub !== "setup") throw new UsageError(sub ? `lab: unknown subcommand "${sub}"; ${USAGE}` : USAGE);
  let values;
  try {
    ({ values } = parseArgs2({
      args: rest,
      options: { kernel: { type: "string" }, dir: { type: "string" }, json: { type: "boolean" } },
      strict: true,
      allowPositionals: false
    }));
  } catch (error) {
    throw new UsageError(`lab setup: ${error.message}; ${USAGE}`);
  }
  if (values.kernel !== void 0 && !/^[0-9][\w.+~-]*$/.test(values.kernel)) {
    throw new UsageError(`lab setup: --kernel "${values.kernel}" is not a kernel release (like 6.1.0-56-amd64)`);
  }
  const labDir = values.dir ?? defaultLabDir();
  const entry = await setupLab({ release: values.kernel, labDir, log: (l) => console.error(`lab: ${l}`) });
  if (values.json) console.log(JSON.stringify(entry, null, 2));
  else {
    console.log(`kernel ${entry.release} (${entry.imagePackage} ${entry.imageVersion}, ${entry.bootMode} boot) ready in ${labDir}`);
    console.log(`  vmlinux   ${entry.vmlinux}
  initrd    ${entry.initrd}
  buildDir  ${entry.buildDir}
  modules   ${entry.modulesDir}`);
  }
  return 0;
}
var USAGE;
var init_lab = __esm({
  "src/cli/lab.ts"() {
    "use strict";
    init_setup();
    init_lab_kernel();
    init_input_error();
    USAGE = "usage: alloc-balance lab setup [--kernel RELEASE] [--dir DIR] [--json]";
  }
});

// src/target/job.ts
function parseTargetJob(text, source = "file") {
  const r = new JobReader(source);
  let root;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`job ${source} is not valid JSON (${e.message})`);
  }
  if (typeof root !== "object" || root === null || Array.isArray(root)) r.fail("(top level)", "an object", root);
  const j = root;
  const m = r.object(j, "module", "module");
  const module = {
    path: r.string(m, "path", "module.path"),
    name: r.string(m, "name", "module.name").replace(/-/g, "_"),
    args: r.string(m, "args", "module.args", "")
  };
  if (module.path === "") r.fail("module.path", "the path of a .ko file", module.path);
  if (!SYMBOL2.test(module.name)) r.fail("module.name", "a module name like kni_like", module.name);
  const w = r.object(j, "workload", "workload");
  const workload = {
    command: r.string(w, "command", "workload.command"),
    readyPattern: r.string(w, "readyPattern", "workload.readyPattern", ""),
    readyCommand: r.string(w, "readyCommand", "workload.readyCommand", ""),
    readyDelaySeconds: r.number(w, "readyDelaySeconds", "workload.readyDelaySeconds", 0, 3600, 1),
    readyTimeoutSeconds: r.number(w, "readyTimeoutSeconds", "workload.readyTimeoutSeconds", 0.1, 86400, 60),
    holdSeconds: r.number(w, "holdSeconds", "workload.holdSeconds", 0, 86400, 1),
    stopSignal: r.string(w, "stopSignal", "workload.stopSignal", "SIGTERM").toUpperCase(),
    graceSeconds: r.number(w, "graceSeconds", "workload.graceSeconds", 0, 3600, 10),
    cwd: r.string(w, "cwd", "workload.cwd", ""),
    env: {}
  };
  if (workload.command.trim() === "") r.fail("workload.command", "a shell command", workload.command);
  if (!SIGNALS.includes(workload.stopSignal)) r.fail("workload.stopSignal", `one of ${SIGNALS.join(", ")}`, w.stopSignal);
  if (workload.readyPattern !== "") {
    try {
      new RegExp(workload.readyPattern);
    } catch (e) {
      r.fail("workload.readyPattern", `a valid regular expression (${e.message})`, workload.readyPattern);
    }
  }
  if (w.env !== void 0) {
    const env = r.object(w, "env", "workload.env");
    for (const [k, v] of Object.entries(env)) {
      if (typeof v !== "string") r.fail(`workload.env.${k}`, "a string", v);
      workload.env[k] = v;
    }
  }
  const trackRaw = j.track;
  if (!Array.isArray(trackRaw) || trackRaw.length === 0) r.fail("track", "a non-empty list of {alloc, free}", trackRaw);
  const track = trackRaw.map((p, i) => {
    if (typeof p !== "object" || p === null) r.fail(`track[${i}]`, "{alloc, free}", p);
    const alloc = r.string(p, "alloc", `track[${i}].alloc`);
    const free = r.string(p, "free", `track[${i}].free`);
    if (!SYMBOL2.test(alloc)) r.fail(`track[${i}].alloc`, "a kernel function name", alloc);
    if (!SYMBOL2.test(free)) r.fail(`track[${i}].free`, "a kernel function name", free);
    return { alloc, free };
  });
  const runId = r.string(j, "runId", "runId");
  if (!/^[A-Za-z0-9_]{1,24}$/.test(runId)) r.fail("runId", "letters, digits and _ (at most 24)", runId);
  const job = {
    module,
    workload,
    cycles: r.number(j, "cycles", "cycles", 1, 1e4, void 0, true),
    track,
    traceBufferKb: r.number(j, "traceBufferKb", "traceBufferKb", 64, 4 * 1024 * 1024, 8192, true),
    stacks: r.bool(j, "stacks", "stacks", true),
    outDir: r.string(j, "outDir", "outDir"),
    runId
  };
  if (job.outDir === "") r.fail("outDir", "a directory for the trace and logs", job.outDir);
  if (j.hugepages !== void 0) job.hugepages = r.number(j, "hugepages", "hugepages", 0, 1 << 20, void 0, true);
  if (j.timeoutSeconds !== void 0) job.timeoutSeconds = r.number(j, "timeoutSeconds", "timeoutSeconds", 0, 7 * 86400);
  if (j.lockFile !== void 0) job.lockFile = r.string(j, "lockFile", "lockFile");
  if (j.stateFile !== void 0) job.stateFile = r.string(j, "stateFile", "stateFile");
  return job;
}
var DEFAULT_LOCK_FILE, SIGNALS, SYMBOL2, JobReader;
var init_job = __esm({
  "src/target/job.ts"() {
    "use strict";
    init_input_error();
    DEFAULT_LOCK_FILE = "/run/alloc-balance/lock";
    SIGNALS = ["SIGINT", "SIGTERM", "SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
    SYMBOL2 = /^[A-Za-z_][A-Za-z0-9_.]*$/;
    JobReader = class {
      constructor(source) {
        this.source = source;
      }
      source;
      fail(field, expected, value) {
        const shown = value === void 0 ? "missing" : `${JSON.stringify(value)} is not valid`;
        throw new UsageError(`job ${this.source}: ${field}: ${shown}; expected ${expected}`);
      }
      object(obj, field, path) {
        const v = obj[field];
        if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(path, "an object", v);
        return v;
      }
      string(obj, field, path, fallback) {
        const v = obj[field];
        if (v === void 0 && fallback !== void 0) return fallback;
        if (typeof v !== "string") this.fail(path, "a string", v);
        return v;
      }
      number(obj, field, path, min, max, fallback, integer = false) {
        const v = obj[field];
        if (v === void 0 && fallback !== void 0) return fallback;
        if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || integer && !Number.isInteger(v)) {
          this.fail(path, `${integer ? "a whole number" : "a number"} from ${min} to ${max}`, v);
        }
        return v;
      }
      bool(obj, field, path, fallback) {
        const v = obj[field];
        if (v === void 0) return fallback;
        if (typeof v !== "boolean") this.fail(path, "true or false", v);
        return v;
      }
    };
  }
});

// src/build/command.ts
import { spawn as spawn2 } from "node:child_process";
function runCommand(cmd, args, opts = {}) {
  const max = opts.maxOutput ?? 4 * 1024 * 1024;
  const started = Date.now();
  return new Promise((resolve2) => {
    const out = new Tail(max);
    const err = new Tail(max);
    const both = new Tail(max);
    let error;
    let timer;
    const child = spawn2(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: opts.timeoutSeconds !== void 0
    });
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (s) => {
      out.push(s);
      both.push(s);
    });
    child.stderr.on("data", (s) => {
      err.push(s);
      both.push(s);
    });
    if (opts.timeoutSeconds !== void 0) {
      timer = setTimeout(() => {
        error = `timed out after ${opts.timeoutSeconds} s`;
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
        }
      }, opts.timeoutSeconds * 1e3);
    }
    child.on("error", (e) => {
      error = e.code === "ENOENT" ? `${cmd}: not found (is it installed?)` : `${cmd}: ${e.message}`;
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve2({
        code,
        signal,
        stdout: out.text(),
        stderr: err.text(),
        output: both.text(),
        error,
        seconds: (Date.now() - started) / 1e3
      });
    });
  });
}
function describeExit(r) {
  if (r.error) return r.error;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit ${r.code}`;
}
function lastLines(text, n) {
  const lines2 = text.split("\n").filter((l) => l.trim() !== "");
  return lines2.slice(-n).join("\n");
}
var Tail;
var init_command2 = __esm({
  "src/build/command.ts"() {
    "use strict";
    Tail = class {
      constructor(max) {
        this.max = max;
      }
      max;
      parts = [];
      size = 0;
      push(s) {
        this.parts.push(s);
        this.size += s.length;
        if (this.size > this.max * 2) this.compact();
      }
      compact() {
        const all = this.parts.join("");
        const kept = all.slice(-this.max);
        this.parts = [kept];
        this.size = kept.length;
      }
      text() {
        this.compact();
        return this.parts.join("");
      }
    };
  }
});

// src/build/module-info.ts
async function readVermagic(ko) {
  const r = await runCommand("modinfo", ["-F", "vermagic", ko]);
  if (r.code !== 0) throw new UsageError(`modinfo ${ko} failed (${describeExit(r)}): ${r.stderr.trim() || "is it a kernel module?"}`);
  const v = r.stdout.trim();
  if (v === "") throw new UsageError(`${ko} has no vermagic: it is not a kernel module built with Kbuild`);
  return v;
}
function vermagicRelease(vermagic) {
  return vermagic.trim().split(/\s+/)[0] ?? "";
}
function vermagicMismatch(ko, vermagic, release) {
  const built = vermagicRelease(vermagic);
  if (built === release.trim()) return null;
  return `${ko} was built for kernel ${built} but the target kernel is ${release.trim()}: build it against /lib/modules/${release.trim()}/build (package linux-headers-${release.trim()}), or run on a kernel whose headers were used`;
}
var init_module_info = __esm({
  "src/build/module-info.ts"() {
    "use strict";
    init_command2();
    init_input_error();
  }
});

// src/target/abortable.ts
function throwIfAborted(signal) {
  if (signal.aborted) throw abortError(signal);
}
function abortError(signal) {
  return signal.reason instanceof Error ? signal.reason : new RunAborted("cancelled", "the run was cancelled");
}
function sleep(ms, signal) {
  return new Promise((resolve2, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve2();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
var RunAborted;
var init_abortable = __esm({
  "src/target/abortable.ts"() {
    "use strict";
    RunAborted = class extends Error {
      constructor(why, message) {
        super(message);
        this.why = why;
        this.name = "RunAborted";
      }
      why;
    };
  }
});

// src/target/function-names.ts
import { createReadStream as createReadStream2, existsSync as existsSync4 } from "node:fs";
import { createInterface } from "node:readline";
function isKmemPair(p) {
  return p.alloc === "kmalloc" && p.free === "kfree";
}
function editDistance(a, b, limit = Infinity) {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length];
}
function filterFunctionName(line) {
  return line.trim().split(/\s+/)[0] ?? "";
}
async function findUnknownNames(pairs, functionLines, blacklisted) {
  const wanted = /* @__PURE__ */ new Map();
  for (const p of pairs) {
    if (isKmemPair(p)) continue;
    wanted.set(p.alloc, "alloc");
    if (!wanted.has(p.free)) wanted.set(p.free, "free");
  }
  const seen = /* @__PURE__ */ new Set();
  for await (const line of functionLines()) {
    const fn = filterFunctionName(line);
    if (wanted.has(fn)) seen.add(fn);
  }
  const missing = [...wanted].filter(([name]) => !seen.has(name) || blacklisted.has(name));
  if (missing.length === 0) return [];
  const matchers = missing.map(([name, role]) => ({ name, role, m: new CloseMatches(name) }));
  for await (const line of functionLines()) {
    const fn = filterFunctionName(line);
    if (fn === "" || blacklisted.has(fn)) continue;
    for (const x of matchers) if (fn !== x.name) x.m.offer(fn);
  }
  return matchers.map((x) => ({ name: x.name, role: x.role, closeMatches: x.m.matches }));
}
function describeUnknownNames(unknown) {
  return unknown.map((u) => {
    const hint = u.closeMatches.length ? `did you mean ${u.closeMatches.join(", ")}?` : "no similar traceable function";
    return `"${u.name}" (${u.role}) is not a traceable kernel function on this kernel: ${hint}`;
  }).join("; ");
}
function lines(path) {
  return createInterface({ input: createReadStream2(path), crlfDelay: Infinity });
}
async function readKprobeBlacklist(path = "/sys/kernel/debug/kprobes/blacklist") {
  const out = /* @__PURE__ */ new Set();
  if (!existsSync4(path)) return out;
  for await (const line of lines(path)) {
    const name = line.trim().split(/\s+/)[1];
    if (name) out.add(name);
  }
  return out;
}
var CloseMatches;
var init_function_names = __esm({
  "src/target/function-names.ts"() {
    "use strict";
    CloseMatches = class {
      constructor(wanted, keep = 3) {
        this.wanted = wanted;
        this.keep = keep;
        this.limit = Math.max(2, Math.floor(wanted.length / 3));
      }
      wanted;
      keep;
      best = [];
      limit;
      offer(candidate) {
        let score;
        if (candidate.includes(this.wanted) || this.wanted.includes(candidate)) {
          score = Math.abs(candidate.length - this.wanted.length) / 100;
          if (candidate.length < 4) return;
        } else {
          const d = editDistance(this.wanted, candidate, this.limit);
          if (d > this.limit) return;
          score = d;
        }
        if (this.best.some((b) => b.name === candidate)) return;
        this.best.push({ name: candidate, score });
        this.best.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
        if (this.best.length > this.keep) this.best.pop();
      }
      get matches() {
        return this.best.map((b) => b.name);
      }
    };
  }
});

// src/target/kernel-module.ts
import { existsSync as existsSync5, readdirSync as readdirSync2, readFileSync as readFileSync8 } from "node:fs";
import { join as join4 } from "node:path";
function modulesListHas(procModules, name) {
  return procModules.split("\n").some((l) => l.split(" ")[0] === name);
}
function isModuleLoaded(name, procModules = "/proc/modules") {
  return modulesListHas(readFileSync8(procModules, "utf8"), name);
}
function splitModuleArgs(args) {
  const out = [];
  const re = /(?:[^\s"']+|"[^"]*"|'[^']*')+/g;
  for (const m of args.matchAll(re)) out.push(m[0].replace(/(["'])(.*?)\1/g, "$2"));
  return out;
}
function insmod(path, args, timeoutSeconds = 120) {
  return runCommand("insmod", [path, ...splitModuleArgs(args)], { timeoutSeconds });
}
function rmmod(name, timeoutSeconds = 120) {
  return runCommand("rmmod", [name], { timeoutSeconds });
}
function readSections(name, sysModule = "/sys/module") {
  const dir = join4(sysModule, name, "sections");
  const out = {};
  if (!existsSync5(dir)) return out;
  for (const entry of readdirSync2(dir).sort()) {
    try {
      out[entry] = readFileSync8(join4(dir, entry), "utf8").trim();
    } catch {
    }
  }
  return out;
}
var init_kernel_module = __esm({
  "src/target/kernel-module.ts"() {
    "use strict";
    init_command2();
  }
});

// src/target/kmsg.ts
import { closeSync as closeSync2, constants, openSync as openSync2, readSync as readSync2 } from "node:fs";
function parseKmsgRecord(raw) {
  const semi = raw.indexOf(";");
  if (semi < 0) return null;
  const [pri, seq, usec] = raw.slice(0, semi).split(",");
  const text = raw.slice(semi + 1).split("\n")[0] ?? "";
  return { seq: Number(seq), usec: Number(usec), level: Number(pri) & 7, text };
}
function formatKmsg(r) {
  const s = Math.floor(r.usec / 1e6);
  const us = String(r.usec % 1e6).padStart(6, "0");
  return `[${String(s).padStart(5)}.${us}] ${r.text}`;
}
function readKmsg(after = -1, device = "/dev/kmsg") {
  const fd = openSync2(device, constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(16384);
  const out = [];
  try {
    for (; ; ) {
      let n;
      try {
        n = readSync2(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = e.code;
        if (code === "EAGAIN") break;
        if (code === "EPIPE") continue;
        throw e;
      }
      if (n === 0) break;
      const rec = parseKmsgRecord(buf.toString("utf8", 0, n));
      if (rec && rec.seq > after) out.push(rec);
    }
  } finally {
    closeSync2(fd);
  }
  return out;
}
function kmsgMark(device = "/dev/kmsg") {
  const all = readKmsg(-1, device);
  return all.length ? all[all.length - 1].seq : -1;
}
var init_kmsg = __esm({
  "src/target/kmsg.ts"() {
    "use strict";
  }
});

// src/target/lock.ts
import { mkdirSync as mkdirSync2, openSync as openSync3, readFileSync as readFileSync9, rmSync as rmSync3, writeSync, closeSync as closeSync3 } from "node:fs";
import { dirname as dirname2 } from "node:path";
function processAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
function readOwner(path) {
  try {
    const [pid, runId] = readFileSync9(path, "utf8").trim().split(/\s+/);
    return { pid: Number(pid), runId: runId ?? "?" };
  } catch {
    return null;
  }
}
function acquireLock(path, runId, pid = process.pid) {
  mkdirSync2(dirname2(path), { recursive: true });
  let stale;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync3(path, "wx", 420);
      writeSync(fd, `${pid} ${runId}
`);
      closeSync3(fd);
      return stale ? { staleTakenOver: stale } : {};
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    }
    const owner = readOwner(path);
    if (owner && processAlive(owner.pid) && owner.pid !== pid) {
      throw new LockBusyError(
        `another alloc-balance run (pid ${owner.pid}, run ${owner.runId}) holds ${path}: runs on one kernel must not overlap; wait for it, or remove ${path} if that process is not alloc-balance`
      );
    }
    stale = owner ?? void 0;
    rmSync3(path, { force: true });
  }
  throw new LockBusyError(`could not take the lock ${path}: it keeps being re-created by another process`);
}
function releaseLock(path, pid = process.pid) {
  const owner = readOwner(path);
  if (owner && owner.pid === pid) rmSync3(path, { force: true });
}
var LockBusyError;
var init_lock = __esm({
  "src/target/lock.ts"() {
    "use strict";
    LockBusyError = class extends Error {
      constructor(message) {
        super(message);
        this.name = "LockBusyError";
      }
    };
  }
});

// src/target/splats.ts
function findSplats(dmesg, max = 3, maxLines = 30) {
  const lines2 = dmesg.split("\n");
  const out = [];
  for (let i = 0; i < lines2.length && out.length < max; i++) {
    const p = PATTERNS.find((pat) => pat.re.test(lines2[i]));
    if (!p) continue;
    const excerpt = [];
    let j = i;
    for (; j < lines2.length && excerpt.length < maxLines; j++) {
      excerpt.push(lines2[j]);
      if (END.test(lines2[j])) break;
    }
    out.push({ kind: p.kind, excerpt: excerpt.join("\n") });
    i = j;
  }
  return out;
}
var PATTERNS, END;
var init_splats = __esm({
  "src/target/splats.ts"() {
    "use strict";
    PATTERNS = [
      { kind: "kernel panic", re: /Kernel panic - not syncing/ },
      { kind: "oops", re: /\bOops\b/ },
      { kind: "general protection fault", re: /general protection fault/ },
      { kind: "BUG", re: /\bBUG:|kernel BUG at/ },
      { kind: "KASAN", re: /\bKASAN\b/ },
      { kind: "WARNING", re: /\bWARNING:/ },
      { kind: "RCU stall", re: /rcu_(sched|preempt|bh) self-detected stall|rcu: INFO|rcu: .*detected stalls on CPUs/ },
      { kind: "hung task", re: /blocked for more than \d+ seconds/ }
    ];
    END = /---\[ end (trace|Kernel panic)/;
  }
});

// src/target/trace-setup.ts
import { createWriteStream, writeFileSync as writeFileSync3 } from "node:fs";
import { join as join5 } from "node:path";
import { pipeline } from "node:stream/promises";
function instanceName(runId) {
  return `alloc-balance-${runId}`;
}
function kprobeGroup(runId) {
  return `ab${runId}`;
}
function kprobeDefinitions(pairs, group) {
  const out = [];
  pairs.forEach((p, i) => {
    if (isKmemPair(p)) return;
    out.push({ event: `${group}/a${i}`, line: `r${KRETPROBE_MAXACTIVE}:${group}/a${i} ${p.alloc} ret=$retval:x64` });
    out.push({ event: `${group}/f${i}`, line: `p:${group}/f${i} ${p.free} ptr=%di:x64` });
  });
  return out;
}
function setupTracing(tfs, opts, undo) {
  const instance = `instances/${instanceName(opts.runId)}`;
  const group = kprobeGroup(opts.runId);
  const inst = (rel) => `${instance}/${rel}`;
  undo.push({ kind: "rmdir", path: tfs.path(instance) });
  tfs.mkdir(instance);
  tfs.write(inst("tracing_on"), "0");
  tfs.write(inst("buffer_size_kb"), String(opts.traceBufferKb));
  const defs = kprobeDefinitions(opts.track, group);
  for (const d of defs) {
    undo.push({ kind: "remove-kprobe", kprobeEvents: tfs.path("kprobe_events"), event: d.event });
    tfs.append("kprobe_events", `${d.line}
`);
  }
  const pairs = opts.track.map(
    (p, i) => isKmemPair(p) ? { pair: `${p.alloc}:${p.free}`, kmem: true } : { pair: `${p.alloc}:${p.free}`, allocEvent: `${group}/a${i}`, freeEvent: `${group}/f${i}`, kmem: false }
  );
  if (defs.length > 0) {
    if (opts.stacks) {
      for (const p of pairs) {
        if (!p.allocEvent) continue;
        const trigger = tfs.path(inst(`events/${p.allocEvent}/trigger`));
        undo.push({ kind: "remove-trigger", path: trigger, trigger: "stacktrace" });
        tfs.write(trigger, "stacktrace");
      }
    }
    undo.push({ kind: "restore-file", path: tfs.path(inst(`events/${group}/enable`)), value: "0" });
    tfs.write(inst(`events/${group}/enable`), "1");
  }
  const kmemEvents = [];
  if (opts.track.some(isKmemPair)) {
    for (const ev of KMEM_EVENTS) {
      const rel = inst(`events/kmem/${ev}/enable`);
      if (!tfs.exists(rel)) continue;
      undo.push({ kind: "restore-file", path: tfs.path(rel), value: "0" });
      tfs.write(rel, "1");
      kmemEvents.push(`kmem/${ev}`);
    }
  }
  const functions = [...new Set(opts.track.filter((p) => !isKmemPair(p)).flatMap((p) => [p.alloc, p.free]))];
  let functionTracer = false;
  if (functions.length > 0) {
    undo.push({ kind: "restore-file", path: tfs.path(inst("set_ftrace_filter")), value: "" });
    tfs.write(inst("set_ftrace_filter"), functions.join(" "));
    undo.push({ kind: "restore-file", path: tfs.path(inst("current_tracer")), value: "nop" });
    tfs.write(inst("current_tracer"), "function");
    functionTracer = true;
  }
  undo.push({ kind: "restore-file", path: tfs.path(inst("tracing_on")), value: "0" });
  tfs.write(inst("tracing_on"), "1");
  return { instance, group, pairs, functions, functionTracer, kmemEvents };
}
function mark(tfs, setup, text) {
  tfs.write(`${setup.instance}/trace_marker`, `alloc-balance ${text}`);
}
function perCpuDirs(tfs, setup) {
  return tfs.list(`${setup.instance}/per_cpu`).filter((d) => /^cpu\d+$/.test(d)).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
}
async function collectTrace(tfs, setup, outDir) {
  const files = [];
  tfs.write(`${setup.instance}/tracing_on`, "0");
  await pipeline(tfs.stream(`${setup.instance}/trace`), createWriteStream(join5(outDir, "trace.txt")));
  files.push("trace.txt");
  for (const cpu of perCpuDirs(tfs, setup)) {
    writeFileSync3(join5(outDir, `stats-${cpu}.txt`), tfs.read(`${setup.instance}/per_cpu/${cpu}/stats`));
    files.push(`stats-${cpu}.txt`);
  }
  if (tfs.exists("kprobe_profile")) {
    const ours = new Set(setup.pairs.flatMap((p) => [p.allocEvent, p.freeEvent]).filter((e) => !!e).map((e) => e.split("/")[1]));
    const mine = tfs.read("kprobe_profile").split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3 && ours.has(f[0])).map((f) => `${setup.group}/${f[0]} hits=${f[1]} misses=${f[2]}`);
    writeFileSync3(join5(outDir, "kprobe-profile.txt"), mine.map((l) => `${l}
`).join(""));
    files.push("kprobe-profile.txt");
  }
  return files;
}
var KRETPROBE_MAXACTIVE, KMEM_EVENTS;
var init_trace_setup = __esm({
  "src/target/trace-setup.ts"() {
    "use strict";
    init_function_names();
    KRETPROBE_MAXACTIVE = 128;
    KMEM_EVENTS = ["kmalloc", "kmalloc_node", "kfree"];
  }
});

// src/target/tracefs.ts
import { existsSync as existsSync6, readdirSync as readdirSync3, readFileSync as readFileSync10, writeFileSync as writeFileSync4, appendFileSync, mkdirSync as mkdirSync3, rmdirSync, createReadStream as createReadStream3 } from "node:fs";
import { join as join6 } from "node:path";
function findTracefs(candidates = TRACEFS_CANDIDATES) {
  for (const c of candidates) if (existsSync6(join6(c, "trace"))) return c;
  throw new TracefsError(
    `tracefs is not mounted (looked in ${candidates.join(", ")}): mount -t tracefs tracefs /sys/kernel/tracing`
  );
}
var TRACEFS_CANDIDATES, TracefsError, Tracefs;
var init_tracefs = __esm({
  "src/target/tracefs.ts"() {
    "use strict";
    TRACEFS_CANDIDATES = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
    TracefsError = class extends Error {
      constructor(message) {
        super(message);
        this.name = "TracefsError";
      }
    };
    Tracefs = class {
      constructor(root) {
        this.root = root;
      }
      root;
      path(rel) {
        return rel.startsWith("/") ? rel : join6(this.root, rel);
      }
      exists(rel) {
        return existsSync6(this.path(rel));
      }
      read(rel) {
        return readFileSync10(this.path(rel), "utf8");
      }
      list(rel) {
        return readdirSync3(this.path(rel));
      }
      /** Replaces the file's content (`echo X > file`). */
      write(rel, text) {
        this.guard(rel, text, () => writeFileSync4(this.path(rel), text));
      }
      /** Appends (`echo X >> file`): kprobe_events, set_ftrace_filter without clearing. */
      append(rel, text) {
        this.guard(rel, text, () => appendFileSync(this.path(rel), text));
      }
      mkdir(rel) {
        this.guard(rel, "(mkdir)", () => mkdirSync3(this.path(rel)));
      }
      rmdir(rel) {
        this.guard(rel, "(rmdir)", () => rmdirSync(this.path(rel)));
      }
      stream(rel) {
        return createReadStream3(this.path(rel));
      }
      errorLog() {
        try {
          return this.read("error_log").split("\n").filter((l) => l.trim() !== "");
        } catch {
          return [];
        }
      }
      guard(rel, text, op) {
        const before = this.errorLog().length;
        try {
          op();
        } catch (e) {
          const err = e;
          const why = this.errorLog().slice(before).map((l) => l.trim()).join(" | ");
          throw new TracefsError(
            `${this.path(rel)}: writing ${JSON.stringify(text.trim())} failed (${err.code ?? err.message})${why ? `: ${why}` : ""}`
          );
        }
      }
    };
  }
});

// src/target/process-group.ts
import { readdirSync as readdirSync4, readFileSync as readFileSync11 } from "node:fs";
function parseProcStat(text) {
  const open2 = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open2 < 0 || close < open2) return null;
  const rest = text.slice(close + 2).split(" ");
  return { pid: Number(text.slice(0, open2).trim()), comm: text.slice(open2 + 1, close), state: rest[0] ?? "?", pgid: Number(rest[2]) };
}
function listProcesses() {
  const out = [];
  for (const name of readdirSync4("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const p = parseProcStat(readFileSync11(`/proc/${name}/stat`, "utf8"));
      if (p) out.push(p);
    } catch {
    }
  }
  return out;
}
function groupMembers(pgid) {
  return listProcesses().filter((p) => p.pgid === pgid && p.state !== "Z" && p.state !== "X");
}
function groupAlive(pgid) {
  return groupMembers(pgid).length > 0;
}
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
var init_process_group = __esm({
  "src/target/process-group.ts"() {
    "use strict";
  }
});

// src/target/undo-executor.ts
import { existsSync as existsSync7, readFileSync as readFileSync12, rmdirSync as rmdirSync2, writeFileSync as writeFileSync5, appendFileSync as appendFileSync2 } from "node:fs";
async function retry(what, attempts = 10, delayMs = 300) {
  for (let i = 1; ; i++) {
    try {
      await what();
      return;
    } catch (e) {
      if (i >= attempts) throw e;
      await sleep2(delayMs);
    }
  }
}
var sleep2, machineUndo;
var init_undo_executor = __esm({
  "src/target/undo-executor.ts"() {
    "use strict";
    init_command2();
    init_lock();
    init_kernel_module();
    init_process_group();
    sleep2 = (ms) => new Promise((r) => setTimeout(r, ms));
    machineUndo = {
      async run(step) {
        switch (step.kind) {
          case "restore-file":
            if (existsSync7(step.path)) writeFileSync5(step.path, step.value);
            return;
          case "rmdir":
            if (existsSync7(step.path)) await retry(() => rmdirSync2(step.path));
            return;
          case "remove-kprobe": {
            const defined = readFileSync12(step.kprobeEvents, "utf8").split("\n").some((l) => l.split(/\s+/)[0]?.split(":")[1] === step.event);
            if (defined) await retry(() => appendFileSync2(step.kprobeEvents, `-:${step.event}
`));
            return;
          }
          case "remove-trigger":
            if (existsSync7(step.path) && readFileSync12(step.path, "utf8").split("\n").some((l) => l.startsWith(step.trigger))) {
              writeFileSync5(step.path, `!${step.trigger}
`);
            }
            return;
          case "kill-group":
            try {
              process.kill(-step.pgid, "SIGKILL");
            } catch {
              return;
            }
            await retry(() => {
              if (groupAlive(step.pgid)) throw new Error(`process group ${step.pgid} still has processes after SIGKILL`);
            }, 50, 100);
            return;
          case "rmmod":
            await retry(async () => {
              if (!isModuleLoaded(step.name)) return;
              const r = await runCommand("rmmod", [step.name]);
              if (r.code !== 0) throw new Error(`rmmod ${step.name}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
            });
            return;
          case "unlock":
            releaseLock(step.path, step.pid);
            return;
        }
      }
    };
  }
});

// src/target/undo.ts
import { existsSync as existsSync8, readFileSync as readFileSync13, renameSync as renameSync2, rmSync as rmSync4, writeFileSync as writeFileSync6, mkdirSync as mkdirSync4 } from "node:fs";
import { dirname as dirname3 } from "node:path";
async function undoSteps(steps, exec) {
  const problems = [];
  for (const step of steps.reverse()) {
    try {
      await exec.run(step);
    } catch (e) {
      problems.push(`${describeStep(step)}: ${e.message}`);
    }
  }
  return problems;
}
function describeStep(step) {
  switch (step.kind) {
    case "restore-file":
      return `restore ${step.path}`;
    case "rmdir":
      return `remove ${step.path}`;
    case "remove-kprobe":
      return `remove kprobe event ${step.event}`;
    case "remove-trigger":
      return `remove trigger ${step.trigger} from ${step.path}`;
    case "kill-group":
      return `kill process group ${step.pgid}`;
    case "rmmod":
      return `unload module ${step.name}`;
    case "unlock":
      return `release lock ${step.path}`;
  }
}
function readUndoState(file) {
  if (!existsSync8(file)) return null;
  let parsed;
  try {
    parsed = JSON.parse(readFileSync13(file, "utf8"));
  } catch (e) {
    throw new UsageError(`cleanup state ${file} is not valid JSON (${e.message})`);
  }
  const s = parsed;
  if (s?.schema !== "alloc-balance/target-undo@1" || !Array.isArray(s.steps) || typeof s.pid !== "number") {
    throw new UsageError(`cleanup state ${file} is not an alloc-balance target state file`);
  }
  return s;
}
var UndoLog;
var init_undo = __esm({
  "src/target/undo.ts"() {
    "use strict";
    init_input_error();
    UndoLog = class {
      constructor(file, runId, pid = process.pid) {
        this.file = file;
        this.runId = runId;
        this.pid = pid;
      }
      file;
      runId;
      pid;
      steps = [];
      /** Records a step before the change it undoes is made (undoing a change not made is harmless). */
      push(step) {
        this.steps.push(step);
        this.save();
      }
      /** Forgets the latest step matching `match` (its change was undone in the normal course). */
      drop(match) {
        for (let i = this.steps.length - 1; i >= 0; i--) {
          if (match(this.steps[i])) {
            this.steps.splice(i, 1);
            break;
          }
        }
        this.save();
      }
      get pending() {
        return this.steps;
      }
      save() {
        const state = { schema: "alloc-balance/target-undo@1", pid: this.pid, runId: this.runId, steps: this.steps };
        mkdirSync4(dirname3(this.file), { recursive: true });
        const tmp = `${this.file}.tmp`;
        writeFileSync6(tmp, `${JSON.stringify(state, null, 2)}
`);
        renameSync2(tmp, this.file);
      }
      /** Runs every step in reverse; returns what could not be undone. Removes the state file when all went well. */
      async undoAll(exec) {
        const problems = await undoSteps(this.steps.slice(), exec);
        this.steps.length = 0;
        if (problems.length === 0) rmSync4(this.file, { force: true });
        else this.save();
        return problems;
      }
    };
  }
});

// src/target/workload.ts
import { spawn as spawn3 } from "node:child_process";
import { createWriteStream as createWriteStream2 } from "node:fs";
import { join as join7 } from "node:path";
function tail(text, lines2 = 20) {
  return text.split("\n").filter((l) => l.trim() !== "").slice(-lines2).join("\n");
}
async function runCycle(w, cycle, outDir, undo, abort) {
  const logName = `workload-${cycle}.log`;
  const log = createWriteStream2(join7(outDir, logName));
  const t0 = Date.now();
  const seconds2 = (from) => (Date.now() - from) / 1e3;
  const record2 = {
    cycle,
    startedAt: new Date(t0).toISOString(),
    readySeconds: 0,
    heldSeconds: 0,
    stopSeconds: 0,
    totalSeconds: 0,
    exitCode: null,
    exitSignal: null,
    killed: false,
    exitedDuringHold: false,
    log: logName
  };
  let window = "";
  let patternSeen = false;
  const pattern = w.readyPattern ? new RegExp(w.readyPattern, "m") : null;
  let exit = null;
  let onChange = () => {
  };
  const child = spawn3("sh", ["-c", w.command], {
    cwd: w.cwd || void 0,
    env: { ...process.env, ...w.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"]
  });
  const pgid = child.pid;
  const closed = new Promise((resolve2) => child.on("close", () => resolve2()));
  child.on("error", (e) => {
    exit = { code: null, signal: null };
    window += `
[could not start sh: ${e.message}]
`;
    onChange();
  });
  if (pgid !== void 0) undo.push({ kind: "kill-group", pgid });
  const onData = (b) => {
    log.write(b);
    window = (window + b.toString("utf8")).slice(-WINDOW);
    if (pattern && !patternSeen && pattern.test(window)) patternSeen = true;
    onChange();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  child.on("exit", (code, signal) => {
    exit = { code, signal };
    onChange();
  });
  const finish = async () => {
    if (pgid !== void 0 && groupAlive(pgid)) await stopGroup(pgid, w, record2);
    await Promise.race([closed, sleep(2e3)]);
    if (exit) {
      record2.exitCode = exit.code;
      record2.exitSignal = exit.signal;
    }
    await new Promise((r) => log.end(r));
    if (pgid !== void 0) undo.drop((s) => s.kind === "kill-group" && s.pgid === pgid);
    record2.totalSeconds = seconds2(t0);
  };
  try {
    const readyDeadline = t0 + w.readyTimeoutSeconds * 1e3;
    const readyByDelay = !pattern && !w.readyCommand;
    let nextPoll = 0;
    for (; ; ) {
      throwIfAborted(abort);
      if (pattern && patternSeen) break;
      if (readyByDelay && Date.now() - t0 >= w.readyDelaySeconds * 1e3) break;
      if (exit) {
        const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
        throw new WorkloadFailure("workload-not-ready", `cycle ${cycle}: the workload ${how} before it was ready`, tail(window), record2);
      }
      if (Date.now() >= readyDeadline) {
        const what = pattern ? `printed nothing matching /${w.readyPattern}/` : w.readyCommand ? `\`${w.readyCommand}\` never succeeded` : "was not ready";
        throw new WorkloadFailure("workload-not-ready", `cycle ${cycle}: the workload ${what} within ${w.readyTimeoutSeconds} s`, tail(window), record2);
      }
      if (w.readyCommand && Date.now() >= nextPoll) {
        nextPoll = Date.now() + POLL_MS;
        const r = await runCommand("sh", ["-c", w.readyCommand], { timeoutSeconds: Math.max(5, w.readyTimeoutSeconds) });
        if (r.code === 0) break;
        continue;
      }
      await Promise.race([sleep(POLL_MS, abort), new Promise((r) => onChange = r)]);
    }
    record2.readySeconds = seconds2(t0);
    const held = Date.now();
    const holdEnd = held + w.holdSeconds * 1e3;
    while (Date.now() < holdEnd && !exit) {
      await Promise.race([sleep(Math.min(POLL_MS, holdEnd - Date.now()), abort), new Promise((r) => onChange = r)]);
    }
    throwIfAborted(abort);
    record2.exitedDuringHold = exit !== null;
    record2.heldSeconds = seconds2(held);
  } catch (e) {
    await finish();
    if (e instanceof WorkloadFailure) throw new WorkloadFailure(e.status, e.message, tail(window), record2);
    throw e;
  }
  await finish();
  if (pgid !== void 0 && groupAlive(pgid)) {
    throw new WorkloadFailure("workload-failed", `cycle ${cycle}: processes of the workload survived SIGKILL`, tail(window), record2);
  }
  return record2;
}
async function stopGroup(pgid, w, record2) {
  const t = Date.now();
  signalGroup(pgid, w.stopSignal);
  const graceEnd = t + w.graceSeconds * 1e3;
  while (Date.now() < graceEnd && groupAlive(pgid)) await sleep(100);
  if (groupAlive(pgid)) {
    record2.killed = true;
    signalGroup(pgid, "SIGKILL");
    const killEnd = Date.now() + 1e4;
    while (Date.now() < killEnd && groupAlive(pgid)) await sleep(100);
  }
  record2.stopSeconds = (Date.now() - t) / 1e3;
}
var WorkloadFailure, WINDOW, POLL_MS;
var init_workload = __esm({
  "src/target/workload.ts"() {
    "use strict";
    init_command2();
    init_abortable();
    init_process_group();
    WorkloadFailure = class extends Error {
      constructor(status, message, logTail, record2) {
        super(message);
        this.status = status;
        this.logTail = logTail;
        this.record = record2;
        this.name = "WorkloadFailure";
      }
      status;
      logTail;
      record;
    };
    WINDOW = 64 * 1024;
    POLL_MS = 200;
  }
});

// src/target/runner.ts
import { copyFileSync, existsSync as existsSync9, mkdirSync as mkdirSync5, readFileSync as readFileSync14, writeFileSync as writeFileSync7 } from "node:fs";
import { release as osRelease } from "node:os";
import { join as join8, resolve } from "node:path";
function dmesgText(mark2) {
  try {
    return readKmsg(mark2).map(formatKmsg).join("\n");
  } catch (e) {
    return `[could not read /dev/kmsg: ${e.message}]`;
  }
}
function splatExcerpt(dmesg) {
  const splats = findSplats(dmesg);
  if (splats.length === 0) return null;
  return { kind: splats.map((s) => s.kind).join(", "), excerpt: splats.map((s) => s.excerpt).join("\n...\n") };
}
async function runTargetJob(job, opts = {}) {
  const log = opts.log ?? (() => {
  });
  const outDir = resolve(job.outDir);
  mkdirSync5(outDir, { recursive: true });
  const statusFile = join8(outDir, "status.json");
  const stateFile = job.stateFile ?? join8(outDir, "cleanup-state.json");
  const lockFile = job.lockFile ?? DEFAULT_LOCK_FILE;
  const undo = new UndoLog(stateFile, job.runId);
  const internal = new AbortController();
  const abort = opts.signal ? AbortSignal.any([opts.signal, internal.signal]) : internal.signal;
  const started = Date.now();
  const status = {
    schema: "alloc-balance/target-status@1",
    status: "ok",
    timings: { setup: 0, load: 0, cycles: [], unload: 0, collect: 0, total: 0 },
    kernel: osRelease(),
    module: { name: job.module.name, path: job.module.path, args: job.module.args, vermagic: "" },
    sections: {},
    tracing: null,
    files: [],
    notes: [],
    restoreProblems: [],
    startedAt: new Date(started).toISOString(),
    finishedAt: ""
  };
  const fail = (s, reason, excerpt) => {
    if (status.status !== "ok") return;
    status.status = s;
    status.reason = reason;
    if (excerpt) status.logExcerpt = excerpt;
  };
  let timer;
  if (job.timeoutSeconds) {
    timer = setTimeout(() => internal.abort(new RunAborted("timeout", `the run took longer than ${job.timeoutSeconds} s`)), job.timeoutSeconds * 1e3);
  }
  let tfs = null;
  let setup = null;
  let kmsgStart = -1;
  let kmsgMarked = false;
  let loadedByUs = false;
  try {
    const t = Date.now();
    undo.push({ kind: "unlock", path: lockFile, pid: process.pid });
    try {
      const lock = acquireLock(lockFile, job.runId);
      if (lock.staleTakenOver) status.notes.push(`took over a stale lock of pid ${lock.staleTakenOver.pid} (run ${lock.staleTakenOver.runId})`);
    } catch (e) {
      undo.drop((s) => s.kind === "unlock");
      throw new RunFailure("setup-failed", e.message);
    }
    if (!existsSync9(job.module.path)) throw new RunFailure("setup-failed", `module file ${job.module.path} does not exist`);
    if (isModuleLoaded(job.module.name)) {
      throw new RunFailure("setup-failed", `module ${job.module.name} is already loaded: unload it first (rmmod ${job.module.name}); a run must load and unload it itself`);
    }
    status.module.vermagic = await readVermagic(job.module.path).catch((e) => {
      throw new RunFailure("setup-failed", e.message);
    });
    const mismatch = vermagicMismatch(job.module.path, status.module.vermagic, status.kernel);
    if (mismatch) throw new RunFailure("setup-failed", mismatch);
    tfs = new Tracefs(opts.tracefsRoot ?? findTracefs());
    const unknown = await findUnknownNames(job.track, () => lines(tfs.path("available_filter_functions")), await readKprobeBlacklist());
    if (unknown.length) throw new RunFailure("setup-failed", `track: ${describeUnknownNames(unknown)}`);
    if (job.track.some(isKmemPair) && !tfs.exists("events/kmem/kmalloc")) {
      throw new RunFailure("setup-failed", "track: kmalloc:kfree needs the kmem tracepoints, which this kernel does not have");
    }
    try {
      setup = setupTracing(tfs, job, undo);
    } catch (e) {
      throw new RunFailure("setup-failed", `tracing set-up: ${e.message}`);
    }
    status.tracing = {
      instance: setup.instance,
      group: setup.group,
      pairs: setup.pairs,
      functionTracer: setup.functionTracer,
      kmemEvents: setup.kmemEvents,
      traceBufferKb: job.traceBufferKb,
      stacks: job.stacks
    };
    if (job.hugepages !== void 0) reserveHugepages(job.hugepages, undo);
    copyFileSync("/proc/slabinfo", join8(outDir, "slabinfo-before.txt"));
    status.files.push("slabinfo-before.txt");
    kmsgStart = kmsgMark();
    kmsgMarked = true;
    status.timings.setup = seconds(t);
    throwIfAborted(abort);
    const tl = Date.now();
    mark(tfs, setup, "phase=load");
    log(`insmod ${job.module.path} ${job.module.args}`.trim());
    undo.push({ kind: "rmmod", name: job.module.name });
    const ins = await insmod(job.module.path, job.module.args);
    status.timings.load = seconds(tl);
    if (ins.code !== 0) {
      undo.drop((s) => s.kind === "rmmod");
      const dmesg = dmesgText(kmsgStart);
      const splat = splatExcerpt(dmesg);
      const why = (ins.stderr || ins.stdout).trim() || ins.error || `exit ${ins.code}`;
      if (splat) throw new RunFailure("kernel-splat", `insmod ${job.module.name}: ${why}; the kernel reported ${splat.kind}`, splat.excerpt);
      throw new RunFailure("load-failed", `insmod ${job.module.name} failed: ${why}`, lastLines(dmesg, 20));
    }
    loadedByUs = true;
    status.sections = readSections(job.module.name);
    writeFileSync7(join8(outDir, "sections.json"), `${JSON.stringify(status.sections, null, 2)}
`);
    status.files.push("sections.json");
    if (Object.values(status.sections).length > 0 && Object.values(status.sections).every((a) => /^(0x)?0+$/.test(a))) {
      status.notes.push("section addresses read as 0 (kernel.kptr_restrict): module call sites after rmmod cannot be symbolized");
    }
    for (let n = 1; n <= job.cycles; n++) {
      throwIfAborted(abort);
      mark(tfs, setup, `cycle=${n} start`);
      log(`cycle ${n}/${job.cycles}`);
      try {
        status.timings.cycles.push(await runCycle(job.workload, n, outDir, undo, abort));
      } catch (e) {
        if (e instanceof WorkloadFailure) {
          status.timings.cycles.push(e.record);
          status.files.push(e.record.log);
          mark(tfs, setup, `cycle=${n} end`);
          throw new RunFailure(e.status, e.message, e.logTail);
        }
        throw e;
      }
      status.files.push(`workload-${n}.log`);
      mark(tfs, setup, `cycle=${n} end`);
    }
  } catch (e) {
    if (e instanceof RunFailure) fail(e.status, e.message, e.logExcerpt);
    else if (e instanceof RunAborted) fail(e.why === "timeout" ? "timeout" : "cancelled", e.message);
    else fail("setup-failed", `internal error: ${e.message}`, e.stack);
  }
  if (loadedByUs && tfs && setup) {
    const tu = Date.now();
    try {
      mark(tfs, setup, "phase=unload");
    } catch {
    }
    const r = await unloadWithRetry(job.module.name);
    status.timings.unload = seconds(tu);
    if (r.ok) undo.drop((s) => s.kind === "rmmod");
    else fail("unload-failed", `rmmod ${job.module.name} failed: ${r.why}`, lastLines(dmesgText(kmsgStart), 20));
  }
  const tc = Date.now();
  if (tfs && setup) {
    try {
      status.files.push(...await collectTrace(tfs, setup, outDir));
    } catch (e) {
      status.notes.push(`could not collect the trace: ${e.message}`);
    }
  }
  if (existsSync9(join8(outDir, "slabinfo-before.txt"))) {
    copyFileSync("/proc/slabinfo", join8(outDir, "slabinfo-after.txt"));
    status.files.push("slabinfo-after.txt");
  }
  if (kmsgMarked) {
    const dmesg = dmesgText(kmsgStart);
    writeFileSync7(join8(outDir, "dmesg.txt"), dmesg ? `${dmesg}
` : "");
    status.files.push("dmesg.txt");
    const splat = splatExcerpt(dmesg);
    if (splat && status.status === "ok") fail("kernel-splat", `the kernel reported ${splat.kind} during the run`, splat.excerpt);
    else if (splat) status.notes.push(`the kernel also reported ${splat.kind}`);
  }
  status.timings.collect = seconds(tc);
  if (timer) clearTimeout(timer);
  status.restoreProblems = await undo.undoAll(machineUndo);
  status.timings.total = seconds(started);
  status.finishedAt = (/* @__PURE__ */ new Date()).toISOString();
  status.files = [.../* @__PURE__ */ new Set(["status.json", ...status.files])];
  writeFileSync7(statusFile, `${JSON.stringify(status, null, 2)}
`);
  const runnerFailed = ["setup-failed", "timeout", "cancelled"].includes(status.status) || status.restoreProblems.length > 0;
  return { status, statusFile, exitCode: runnerFailed ? 1 : 0 };
}
async function unloadWithRetry(name) {
  let why = "";
  for (let i = 0; i < 10; i++) {
    const r = await rmmod(name);
    if (r.code === 0 || !isModuleLoaded(name)) return { ok: true };
    why = (r.stderr || r.stdout).trim() || r.error || `exit ${r.code}`;
    await new Promise((res) => setTimeout(res, 300));
  }
  return { ok: false, why };
}
function reserveHugepages(pages, undo) {
  const before = readFileSync14(HUGEPAGES, "utf8").trim();
  undo.push({ kind: "restore-file", path: HUGEPAGES, value: before });
  writeFileSync7(HUGEPAGES, String(pages));
  const got = Number(readFileSync14(HUGEPAGES, "utf8").trim());
  if (got < pages) throw new RunFailure("setup-failed", `hugepages: asked for ${pages} pages of 2 MiB, the kernel reserved ${got} (not enough free memory)`);
}
var HUGEPAGES, RunFailure, seconds;
var init_runner = __esm({
  "src/target/runner.ts"() {
    "use strict";
    init_module_info();
    init_command2();
    init_abortable();
    init_function_names();
    init_job();
    init_kernel_module();
    init_kmsg();
    init_lock();
    init_splats();
    init_trace_setup();
    init_tracefs();
    init_undo_executor();
    init_undo();
    init_workload();
    HUGEPAGES = "/proc/sys/vm/nr_hugepages";
    RunFailure = class extends Error {
      constructor(status, message, logExcerpt) {
        super(message);
        this.status = status;
        this.logExcerpt = logExcerpt;
        this.name = "RunFailure";
      }
      status;
      logExcerpt;
    };
    seconds = (from) => Math.round(Date.now() - from) / 1e3;
  }
});

// src/target/cleanup.ts
import { rmSync as rmSync5 } from "node:fs";
async function cleanupFromState(file, opts = {}) {
  const state = readUndoState(file);
  if (!state) return { nothingToDo: true, undone: 0, problems: [], notes: [] };
  const notes = [];
  if (state.pid !== process.pid && processAlive(state.pid)) {
    notes.push(`runner pid ${state.pid} was still running: sent SIGTERM`);
    try {
      process.kill(state.pid, "SIGTERM");
    } catch {
    }
    const end = Date.now() + (opts.waitSeconds ?? 60) * 1e3;
    while (Date.now() < end && processAlive(state.pid)) await sleep(200);
    if (processAlive(state.pid)) {
      notes.push(`runner pid ${state.pid} did not stop: sent SIGKILL`);
      try {
        process.kill(state.pid, "SIGKILL");
      } catch {
      }
      await sleep(500);
    }
    const again = readUndoState(file);
    if (!again) return { nothingToDo: false, undone: 0, problems: [], notes: [...notes, "the runner restored everything itself"] };
    state.steps = again.steps;
  }
  const problems = await undoSteps(state.steps.slice(), opts.exec ?? machineUndo);
  if (problems.length === 0) rmSync5(file, { force: true });
  return { nothingToDo: false, undone: state.steps.length, problems, notes };
}
var init_cleanup = __esm({
  "src/target/cleanup.ts"() {
    "use strict";
    init_abortable();
    init_lock();
    init_undo_executor();
    init_undo();
  }
});

// src/cli/target.ts
var target_exports = {};
__export(target_exports, {
  targetCommand: () => targetCommand
});
import { readFileSync as readFileSync15 } from "node:fs";
function option(args, name) {
  const i = args.indexOf(name);
  const v = i >= 0 ? args[i + 1] : void 0;
  if (v === void 0 || v.startsWith("--")) throw new UsageError(`target: ${name} FILE is required (${USAGE2})`);
  return v;
}
function requireRoot(what) {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new UsageError(`target ${what} must run as root (it loads modules and writes tracefs): run it with sudo`);
  }
}
async function run2(args) {
  const jobFile = option(args, "--job");
  let text;
  try {
    text = readFileSync15(jobFile, "utf8");
  } catch (e) {
    throw new UsageError(`target run: cannot read job ${jobFile} (${e.code ?? e.message})`);
  }
  const job = parseTargetJob(text, jobFile);
  requireRoot("run");
  const controller = new AbortController();
  let received = null;
  const onSignal = (sig) => {
    if (received) {
      console.error(`alloc-balance target: ${sig} again; still restoring the kernel's state, please wait`);
      return;
    }
    received = sig;
    console.error(`alloc-balance target: ${sig}: stopping the workload, unloading the module and restoring tracing`);
    controller.abort(new RunAborted("cancelled", `the run was cancelled by ${sig}`));
  };
  const signals = ["SIGTERM", "SIGINT", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  try {
    const result = await runTargetJob(job, { signal: controller.signal, log: (l) => console.error(`alloc-balance target: ${l}`) });
    const s = result.status;
    console.log(`status: ${s.status}${s.reason ? ` (${s.reason})` : ""}`);
    console.log(`written: ${result.statusFile}`);
    for (const p of s.restoreProblems) console.error(`alloc-balance target: could not restore: ${p}`);
    if (s.restoreProblems.length) console.error(`alloc-balance target: run \`alloc-balance target cleanup --state ${job.stateFile ?? `${job.outDir}/cleanup-state.json`}\``);
    if (received) return 128 + (SIGNAL_NUMBERS[received] ?? 15);
    return result.exitCode;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
async function cleanup(args) {
  const stateFile = option(args, "--state");
  requireRoot("cleanup");
  const r = await cleanupFromState(stateFile);
  for (const n of r.notes) console.error(`alloc-balance target cleanup: ${n}`);
  if (r.nothingToDo) {
    console.log("cleanup: nothing to do (the run restored everything)");
    return 0;
  }
  for (const p of r.problems) console.error(`alloc-balance target cleanup: could not restore: ${p}`);
  console.log(`cleanup: ${r.undone} step(s), ${r.problems.length} problem(s)`);
  return r.problems.length ? 1 : 0;
}
async function targetCommand(args) {
  const [sub, ...rest] = args;
  if (sub === "run") return run2(rest);
  if (sub === "cleanup") return cleanup(rest);
  throw new UsageError(`target: ${sub ? `unknown subcommand "${sub}"` : "missing subcommand"} (${USAGE2})`);
}
var USAGE2, SIGNAL_NUMBERS;
var init_target = __esm({
  "src/cli/target.ts"() {
    "use strict";
    init_input_error();
    init_job();
    init_runner();
    init_cleanup();
    init_abortable();
    USAGE2 = "usage: alloc-balance target run --job FILE | target cleanup --state FILE";
    SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  }
});

// src/cli/demo.ts
var demo_exports = {};
__export(demo_exports, {
  demoCommand: () => demoCommand
});
async function demoCommand(_args) {
  throw new UsageError("demo: not available yet");
}
var init_demo = __esm({
  "src/cli/demo.ts"() {
    "use strict";
    init_input_error();
  }
});

// src/cli.ts
init_input_error();
var COMMANDS = {
  analyze: { summary: "count allocations and frees in trace files", load: async () => (await Promise.resolve().then(() => (init_analyze(), analyze_exports))).analyzeCommand },
  compare: { summary: "compare a base and a PR analysis: verdict and balance table", load: async () => (await Promise.resolve().then(() => (init_compare2(), compare_exports))).compareCommand },
  lab: { summary: "lab setup: install QEMU, a kernel and its headers for the VM target", load: async () => (await Promise.resolve().then(() => (init_lab(), lab_exports))).labCommand },
  target: { summary: "target run --job FILE: the kernel-side part of a run (as root)", load: async () => (await Promise.resolve().then(() => (init_target(), target_exports))).targetCommand },
  demo: { summary: "base vs PR of a small leaky module in a VM, table printed", load: async () => (await Promise.resolve().then(() => (init_demo(), demo_exports))).demoCommand }
};
function usage() {
  const lines2 = ["usage: alloc-balance <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines2.push(`  ${name.padEnd(9)} ${c.summary}`);
  return lines2.join("\n");
}
async function main(argv) {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 64;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`alloc-balance: unknown command "${name}"
${usage()}`);
    return 64;
  }
  return (await command.load())(rest);
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof UsageError || error instanceof InputError) {
      console.error(`alloc-balance: ${error.message}`);
    } else {
      console.error(`alloc-balance: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }
    process.exitCode = 64;
  }
);
