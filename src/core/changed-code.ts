// Which functions of the module a PR changed: each function's disassembly (`objdump -dr`) with
// what moves between builds masked (addresses, the offsets of data and strings in their
// sections), base against PR. A function whose masked code differs, or that is new, changed.
import { createHash } from 'node:crypto';
import { callerKey } from './frames.js';
import type { ChangedCode } from './model.js';
import { parseNm } from './module-map.js';

/** What module_init() and module_exit() alias the module's init and exit functions as. */
const ALIASES = new Set(['init_module', 'cleanup_module']);

const HEADER = /^[0-9a-f]+ <([^>]+)>:$/;
/** The padding a kernel's build puts before each function (6.2's `__pfx_`, kCFI's `__cfi_`): no function of its own. */
const PADDING = /^__(?:pfx|cfi)_/;

function normalize(line: string, fn: string): string {
  return (
    line
      .replace(/^\s*[0-9a-f]+:\s*/, '') // the instruction's or relocation's address
      .replace(/#.*$/, '') // objdump's comment: the absolute target
      // A branch target inside the function keeps its symbol-relative form; one outside is a
      // relocation's placeholder, named after whatever lies at that address in this build.
      .replace(/\b[0-9a-f]+ <([^>]+)>/g, (_, target: string) => (target === fn || target.startsWith(`${fn}+`) ? `<${target.slice(fn.length)}>` : '<>'))
      .replace(/(\.[A-Za-z_][\w.]*)(?:[+-]0x[0-9a-f]+)?/g, '$1') // a section-relative reference: where in .rodata/.bss moves
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/**
 * Pure: what objdump names after init_module/cleanup_module (the alias sorts first at its
 * address) is the module's own init or exit function, found in `nm -f sysv` at the same place.
 */
export function aliasNames(nmText: string): Map<string, string> {
  const symbols = parseNm(nmText);
  const out = new Map<string, string>();
  for (const alias of symbols.filter((s) => ALIASES.has(s.name))) {
    const own = symbols.find((s) => !ALIASES.has(s.name) && s.section === alias.section && s.value === alias.value);
    if (own) out.set(alias.name, own.name);
  }
  return out;
}

/** Pure: a hash of each function's masked code, by function (`.cold`/`.constprop` parts folded into theirs). */
export function functionHashes(objdump: string, aliases: Map<string, string> = new Map()): Map<string, string> {
  const parts = new Map<string, string[]>();
  let current: string[] | null = null;
  let fn = '';
  for (const raw of objdump.split('\n')) {
    const line = raw.trimEnd();
    const h = HEADER.exec(line);
    if (h) {
      fn = h[1];
      const name = aliases.get(h[1]) ?? h[1];
      if (ALIASES.has(name) || PADDING.test(name)) {
        current = null;
        continue;
      }
      current = [`<${name.slice(callerKey(name).length)}>`];
      const key = callerKey(name);
      parts.set(key, [...(parts.get(key) ?? []), ...current]);
      current = parts.get(key)!;
      continue;
    }
    if (line === '' || line.startsWith('Disassembly of section') || /file format/.test(line)) continue;
    if (current) current.push(normalize(line, fn));
  }
  const out = new Map<string, string>();
  for (const [name, lines] of parts) out.set(name, createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16));
  return out;
}

/** Pure: the PR's functions whose code differs from the base's, or that the base lacks; sorted. */
export function changedFunctions(baseObjdump: string, prObjdump: string, aliases: { base?: Map<string, string>; pr?: Map<string, string> } = {}): string[] {
  const base = functionHashes(baseObjdump, aliases.base);
  const pr = functionHashes(prObjdump, aliases.pr);
  return [...pr.entries()]
    .filter(([name, hash]) => base.get(name) !== hash)
    .map(([name]) => name)
    .sort();
}

/** Pure: the symbols of the .ko to probe for a changed function: its own entries, not `.cold` parts or aliases. */
export function entrySymbols(functions: string[], symbolNames: string[]): string[] {
  const wanted = new Set(functions);
  return symbolNames.filter((s) => wanted.has(callerKey(s)) && !/\.cold(\.\d+)?$/.test(s) && !ALIASES.has(s) && s === s.trim()).sort();
}

/** A changed function and how often it ran on the PR side. */
/** "abcase_open (3 calls), abcase_ioctl (never ran)" */
export function changedText(c: ChangedCode): string {
  return c.functions
    .map((f) => {
      const total = f.calls === null ? null : f.calls + (f.sweepCalls ?? 0);
      if (f.lifecycle && !total) return `${f.name} (at every ${f.lifecycle})`;
      if (total === null) return `${f.name} (not counted)`;
      if (total === 0) return `${f.name} (never ran)`;
      const sweep = f.sweepCalls ? `, ${f.sweepCalls} in the error-path sweep` : '';
      return `${f.name} (${total} call${total === 1 ? '' : 's'}${sweep})`;
    })
    .join(', ');
}

/** The changed functions that never ran (load, cycles, unload and sweep). */
export function neverRan(c: ChangedCode | undefined): string[] {
  return (c?.functions ?? []).filter((f) => f.calls === 0 && !f.sweepCalls && !f.lifecycle).map((f) => f.name);
}
