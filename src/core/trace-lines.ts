// The fields the analysis reads out of one trace line: a kmem tracepoint's call site, object
// and slab size; a kprobe or kretprobe line's function and value; an object address.
import { kmallocCache } from './slab-caches.js';
import { isRawAddress, normalizeAddress, parseFrame } from './frames.js';

/** `call_site=... ptr=...` of a kmem event whose arguments start at `args`; null when absent. */
export function kmemFields(line: string, args: number): { callSite: string; ptr: string; ptrAt: number } | null {
  const cs = line.indexOf('call_site=', args);
  const ptrAt = line.indexOf(' ptr=', args);
  if (cs < 0 || ptrAt < 0) return null;
  const ptrEnd = line.indexOf(' ', ptrAt + 5);
  const ptr = line.slice(ptrAt + 5, ptrEnd < 0 ? undefined : ptrEnd);
  const csEnd = cs < ptrAt ? ptrAt : line.indexOf(' ', cs) < 0 ? undefined : line.indexOf(' ', cs);
  return { callSite: line.slice(cs + 10, csEnd).trim(), ptr, ptrAt };
}

/** `bytes_alloc=64`: the size the allocator gave the object; undefined when not printed. */
export function kmemBytes(line: string, from: number): number | undefined {
  const at = line.indexOf(' bytes_alloc=', from);
  if (at < 0) return undefined;
  const end = line.indexOf(' ', at + 13);
  const bytes = Number(line.slice(at + 13, end < 0 ? undefined : end));
  return Number.isInteger(bytes) ? bytes : undefined;
}

/** `bytes_alloc=64 ... accounted=true` -> `kmalloc-cg-64`; '' when not printed or no kmalloc size. */
export function kmemCache(line: string, from: number): string {
  const bytes = kmemBytes(line, from);
  return bytes === undefined ? '' : kmallocCache(bytes, line.includes(' accounted=true', line.indexOf(' bytes_alloc=', from)));
}

interface ProbeLine {
  /** The probed function. */
  func: string;
  /** A return probe `(caller <- func) ret=..`, else an entry probe `(func+0x0/0x1e0) dev=..`. */
  isReturn: boolean;
  /** For a return probe, where it returned to. */
  caller: string;
  /** The arguments after the closing parenthesis. */
  rest: string;
}

export function parseProbeLine(line: string, args: number): ProbeLine | null {
  const close = line.indexOf(')', args);
  if (close < 0) return null;
  const inner = line.slice(args + 1, close);
  const arrow = inner.indexOf(' <- ');
  const isReturn = arrow >= 0;
  // `<- alloc_netdev_mqs`, with sym-addr `<- alloc_netdev_mqs <ffffffff817d82f0>`.
  const func = parseFrame(isReturn ? inner.slice(arrow + 4) : inner).symbol;
  return { func, isReturn, caller: isReturn ? inner.slice(0, arrow).trim() : '', rest: line.slice(close + 1) };
}

/** The object a probe line names: a return probe's `ret=`, else its first argument. */
export function probeValue(p: ProbeLine): string {
  if (p.isReturn) {
    const ret = /(?:^|\s)ret=(\S+)/.exec(p.rest);
    if (ret) return ret[1];
  }
  return /\S+?=(\S+)/.exec(p.rest)?.[1] ?? '';
}

/** An object address as `0x...`, '' for NULL or a value that is no address. */
export function objectAddress(text: string): string {
  let t = text.trim();
  if (t.startsWith('"')) t = t.slice(1, -1);
  if (/^\d+$/.test(t) && !/^0[0-9]/.test(t)) t = `0x${BigInt(t).toString(16)}`;
  if (!isRawAddress(t) && !(t.startsWith('0x') && t.length > 2)) return '';
  const a = normalizeAddress(t);
  // NULL or ZERO_SIZE_PTR (kfree(NULL) and kfree of a kmalloc(0) emit kfree events), or an
  // ERR_PTR (-4095..-1) from an allocator that failed: no object.
  return (a.length <= 4 && Number.parseInt(a, 16) <= 16) || (a.length === 18 && a >= '0xfffffffffffff001') ? '' : a;
}
