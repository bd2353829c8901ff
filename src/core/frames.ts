// What a frame or call site in a trace can look like, taken apart without regular expressions:
// `kni_ioctl_create`, `leaky_create+0x5a/0x100 [leaky]`, `0xffffffffc0203112`, `ffffffffc0203112`,
// and any of these followed by the raw address tracefs prints with `options/sym-addr`:
// `leaky_create+0x5a/0x100 [leaky] <ffffffffc020305a>`, `0xffffffffc0203112 <ffffffffc0203112>`.

export interface Frame {
  /** Symbol name, '' for a raw address. */
  symbol: string;
  /** Offset into the symbol (`+0x5a`), -1 when not printed. */
  offset: number;
  /** `[module]` suffix, '' when none. */
  module: string;
  /**
   * The address as lower-case `0x...` hex: the frame itself when printed raw, or the
   * `<ffffffffc020305a>` suffix of sym-addr; '' when only a name was printed.
   */
  address: string;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** True for `0xffffffffc0203112` or a bare 8-16 digit hex number (old kmem call_site). */
export function isRawAddress(text: string): boolean {
  let i = text.startsWith('0x') ? 2 : 0;
  const digits = text.length - i;
  if (digits < 1 || (i === 0 && digits < 8)) return false;
  for (; i < text.length; i++) if (!isHexDigit(text.charCodeAt(i))) return false;
  return true;
}

/** `ffffffffc0203112` / `0xFFFF...` -> `0xffffffffc0203112`. */
export function normalizeAddress(text: string): string {
  const hex = (text.startsWith('0x') ? text.slice(2) : text).toLowerCase().replace(/^0+(?=.)/, '');
  return `0x${hex}`;
}

/**
 * Where the sym-addr suffix ` <ffffffffc020305a>` of a frame starts when one ends text[from, end),
 * else -1. The suffix is 8-16 hex digits without `0x`.
 */
export function addressSuffixStart(text: string, from = 0, end = text.length): number {
  if (end - from < 11 || text.charCodeAt(end - 1) !== 62 /* > */) return -1;
  let i = end - 2;
  while (i > from && isHexDigit(text.charCodeAt(i))) i--;
  const digits = end - 2 - i;
  if (digits < 8 || digits > 16 || text.charCodeAt(i) !== 60 /* < */ || text.charCodeAt(i - 1) !== 32) return -1;
  return i - 1;
}

/**
 * When text[at] starts a sym-addr suffix ` <ffffffffc020305a>`, the index after its `>`; else `at`.
 * For lines where the suffix sits in the middle (`func <addr> <-caller <addr>`).
 */
export function skipAddressSuffix(text: string, at: number): number {
  if (text.charCodeAt(at) !== 32 || text.charCodeAt(at + 1) !== 60 /* < */ || !isHexDigit(text.charCodeAt(at + 2))) return at;
  let i = at + 2;
  while (isHexDigit(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === 62 /* > */ && i - at - 2 >= 8 ? i + 1 : at;
}

export function parseFrame(raw: string): Frame {
  let text = raw.trim();
  let printed = '';
  const suffix = addressSuffixStart(text);
  if (suffix > 0) {
    printed = normalizeAddress(text.slice(suffix + 2, -1));
    text = text.slice(0, suffix);
  }
  let module = '';
  if (text.endsWith(']')) {
    const open = text.lastIndexOf(' [');
    if (open > 0) {
      module = text.slice(open + 2, -1);
      text = text.slice(0, open);
    }
  }
  if (isRawAddress(text)) return { symbol: '', offset: -1, module, address: normalizeAddress(text) };
  const plus = text.indexOf('+');
  if (plus < 0) return { symbol: text, offset: -1, module, address: printed };
  const slash = text.indexOf('/', plus);
  const off = Number.parseInt(text.slice(plus + 1, slash < 0 ? undefined : slash), 16);
  return { symbol: text.slice(0, plus), offset: Number.isFinite(off) ? off : -1, module, address: printed };
}

/** The printed form of a call site: `func+0x5a` or `func` or the address. */
export function frameCaller(frame: Frame): string {
  if (frame.symbol === '') return frame.address;
  return frame.offset >= 0 ? `${frame.symbol}+0x${frame.offset.toString(16)}` : frame.symbol;
}

/**
 * The name a call site keeps across builds: the function without offset and without the
 * suffixes the compiler adds to clones (`kni_dev_remove.isra.0` -> `kni_dev_remove`).
 */
export function callerKey(caller: string): string {
  let name = caller;
  const plus = name.indexOf('+');
  if (plus > 0) name = name.slice(0, plus);
  const dot = name.indexOf('.');
  if (dot > 0) name = name.slice(0, dot);
  return name;
}

/** Functions of the tracing machinery that show up in recorded stacks (kprobes, rethook, ftrace). */
const TRACING_FRAMES = new Set([
  'kretprobe_trace_func',
  'kretprobe_dispatcher',
  'kretprobe_rethook_handler',
  'rethook_trampoline_handler',
  'arch_rethook_trampoline_callback',
  'arch_rethook_trampoline',
  '__kretprobe_trampoline',
  '__kretprobe_trampoline_handler',
  'kretprobe_trampoline',
  'kretprobe_trampoline_handler',
  'trampoline_handler',
  'kprobe_trace_func',
  'kprobe_dispatcher',
  'kprobe_ftrace_handler',
  'kprobe_int3_handler',
  'aggr_pre_handler',
  'pre_handler_kretprobe',
]);

/**
 * Is this stack frame the tracer's own code (`kretprobe_trace_func+0x1b/0x2c0`, `ftrace_regs_caller`,
 * the tracepoint's `trace_event_raw_event_kmalloc`)?
 */
export function isTracingFrame(frame: string): boolean {
  let end = frame.indexOf('+');
  const space = frame.indexOf(' ');
  if (end < 0 || (space >= 0 && space < end)) end = space;
  const symbol = end < 0 ? frame : frame.slice(0, end);
  return TRACING_FRAMES.has(symbol) || symbol.startsWith('ftrace_') || symbol.startsWith('trace_event_raw_event_');
}
