// Resolves frames and call sites against the module under test: which code is the module's
// and what a return address (read after rmmod) was. Pure: built from `nm` text and the
// section addresses read from /sys/module/<mod>/sections while the module was loaded. When a
// frame carries an address (raw, or the sym-addr suffix) and the sections are known, the
// address decides; the printed name only when there is no address to check.
import { frameCaller, parseFrame, type Frame } from './frames.js';
import { moduleName } from './module-name.js';

export interface Resolved {
  /** `leaky_create+0x5a`, `kni_ioctl_create`, or the raw address when nothing better is known. */
  caller: string;
  inModule: boolean | null;
}

interface ModuleSymbol {
  name: string;
  section: string;
  value: bigint;
  /** 0 when nm did not print sizes. */
  size: bigint;
}

/** Where a call site lies in the .ko file: what `addr2line -e x.ko -j SECTION OFFSET` wants. */
export interface ModuleOffset {
  caller: string;
  section: string;
  /** Section-relative offset of the call instruction (return address - 1). */
  offset: number;
}

const FUNCTION_TYPES = new Set(['t', 'T', 'w', 'W']);
const UNKNOWN_SIZE_REACH = 0x10000n;
/** What module_init() and module_exit() alias the module's init and exit functions as. */
const MODULE_ALIASES = new Set(['init_module', 'cleanup_module']);

/**
 * Parses `nm` output: BSD (`0000000000000120 T leaky_create`, optionally with `-S` sizes) or
 * System V (`nm -f sysv`: name|value|class|type|size|line|section), which also gives each
 * symbol's section and is needed to resolve raw addresses in init/exit code.
 */
export function parseNm(text: string): ModuleSymbol[] {
  const symbols: ModuleSymbol[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (line.includes('|')) {
      const f = line.split('|').map((s) => s.trim());
      if (f.length < 7 || !FUNCTION_TYPES.has(f[2]) || !/^[0-9a-fA-F]+$/.test(f[1])) continue;
      symbols.push({ name: f[0], value: BigInt(`0x${f[1]}`), section: f[6], size: /^[0-9a-fA-F]+$/.test(f[4]) ? BigInt(`0x${f[4]}`) : 0n });
      continue;
    }
    const f = line.split(/\s+/);
    if (f.length === 3 && FUNCTION_TYPES.has(f[1]) && /^[0-9a-fA-F]+$/.test(f[0])) {
      symbols.push({ name: f[2], value: BigInt(`0x${f[0]}`), section: '.text', size: 0n });
    } else if (f.length === 4 && FUNCTION_TYPES.has(f[2]) && /^[0-9a-fA-F]+$/.test(f[0]) && /^[0-9a-fA-F]+$/.test(f[1])) {
      symbols.push({ name: f[3], value: BigInt(`0x${f[0]}`), section: '.text', size: BigInt(`0x${f[1]}`) });
    }
  }
  return symbols;
}

export class ModuleMap {
  private readonly byName = new Map<string, ModuleSymbol>();
  private readonly bySection = new Map<string, ModuleSymbol[]>();
  private readonly sectionStarts: { name: string; start: bigint }[] = [];
  private readonly cache = new Map<string, Resolved>();
  readonly module: string;

  /**
   * @param module module name (`leaky`, `rte_kni`); '' when unknown.
   * @param nmText `nm` output of the built .ko; '' when not available.
   * @param sections section start addresses while loaded, e.g. `{".text": "0xffffffffc0200000"}`.
   */
  constructor(module: string, nmText = '', sections: Record<string, string> = {}) {
    this.module = moduleName(module);
    for (const s of parseNm(nmText)) {
      if (!this.byName.has(s.name)) this.byName.set(s.name, s);
      const list = this.bySection.get(s.section) ?? [];
      list.push(s);
      this.bySection.set(s.section, list);
    }
    // At one address, the module_init/module_exit aliases sort first so that the function's own name wins.
    for (const list of this.bySection.values())
      list.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : Number(!MODULE_ALIASES.has(a.name)) - Number(!MODULE_ALIASES.has(b.name))));
    for (const [name, start] of Object.entries(sections)) {
      if (!/^(0x)?[0-9a-fA-F]+$/.test(start.trim())) throw new Error(`section ${name}: "${start}" is not an address`);
      this.sectionStarts.push({ name, start: BigInt(start.trim().startsWith('0x') ? start.trim() : `0x${start.trim()}`) });
    }
    this.sectionStarts.sort((a, b) => (a.start < b.start ? 1 : a.start > b.start ? -1 : 0));
  }

  /** True when nm symbols were given: bare symbols can then be told apart. */
  get hasSymbols(): boolean {
    return this.byName.size > 0;
  }

  /**
   * Resolves one frame or call site as printed in a trace. Cached: traces repeat call sites.
   * `afterInit`: the event came after the module's init returned, when its init sections were
   * freed (another module may be loaded there since), so an address there is not the module's.
   */
  resolve(text: string, afterInit = false): Resolved {
    const key = afterInit ? `+${text}` : text;
    let r = this.cache.get(key);
    if (r === undefined) {
      r = this.resolveFrame(parseFrame(text), afterInit);
      if (this.cache.size < 100_000) this.cache.set(key, r);
    }
    return r;
  }

  private resolveFrame(frame: Frame, afterInit: boolean): Resolved {
    // The address decides whenever there is one to check: after rmmod the kernel may print a
    // module address under the name of code that lay there before (freed init text of another
    // module), so the printed name and `[module]` are for display only.
    if (frame.address !== '' && this.sectionStarts.length > 0 && this.hasSymbols) {
      const own = this.symbolAt(frame.address, afterInit);
      return own !== null ? { caller: own, inModule: true } : { caller: frameCaller(frame), inModule: false };
    }
    if (frame.symbol === '') return { caller: frame.address, inModule: null };
    const caller = frameCaller(frame);
    if (frame.module !== '') {
      return { caller, inModule: this.module === '' ? null : moduleName(frame.module) === this.module };
    }
    if (this.byName.size > 0) return { caller, inModule: this.byName.has(frame.symbol) };
    // Printed with an offset and no [module]: the symbol is the kernel's own.
    if (this.module !== '' && frame.offset >= 0) return { caller, inModule: false };
    return { caller, inModule: null };
  }

  /** `func+0x5a` when the address lies in a function of the module's recorded sections, else null. */
  private symbolAt(address: string, afterInit: boolean): string | null {
    const a = BigInt(address);
    for (const { name, start } of this.sectionStarts) {
      if (a < start || (afterInit && name.startsWith('.init'))) continue;
      const off = a - start;
      const list = this.bySection.get(name) ?? [];
      let best: ModuleSymbol | undefined;
      for (const s of list) {
        if (s.value > off) break;
        best = s;
      }
      if (best && off < best.value + (best.size > 0n ? best.size : UNKNOWN_SIZE_REACH)) return `${best.name}+0x${(off - best.value).toString(16)}`;
      // Only the closest section below the address can hold it.
      break;
    }
    return null;
  }

  /**
   * Section-relative offsets of in-module call sites (`func+0x5a`), for `addr2line -j`.
   * Call sites are return addresses: the call instruction is the byte before.
   */
  offsets(callers: Iterable<string>): ModuleOffset[] {
    const out: ModuleOffset[] = [];
    const seen = new Set<string>();
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
}
