// Refuses tracked names the kernel cannot trace, before anything is loaded, and suggests the
// closest traceable names.
import { existsSync, readFileSync } from 'node:fs';
import type { PairSpec } from '../core/model.js';
import { allocatorsOf, isKmemPair, isSlabEvent, releasersOf } from '../core/allocator-families.js';

/** Levenshtein distance, giving up (returning limit + 1) once it exceeds `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
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

/** Keeps the best few candidates for one unknown name while the symbol list streams past. */
class CloseMatches {
  private best: { name: string; score: number }[] = [];
  private readonly limit: number;

  constructor(
    readonly wanted: string,
    private readonly keep = 3,
  ) {
    this.limit = Math.max(2, Math.floor(wanted.length / 3));
  }

  offer(candidate: string): void {
    let score: number;
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

  get matches(): string[] {
    return this.best.map((b) => b.name);
  }
}

interface UnknownName {
  name: string;
  role: 'alloc' | 'free';
  /** Traceable by the function tracer, but kprobes refuse it. */
  blacklisted: boolean;
  closeMatches: string[];
}

/** Pure: `alloc_netdev_mqs` or `rte_kni_fn [rte_kni]` -> the function name. */
function filterFunctionName(line: string): string {
  return line.trim().split(/\s+/)[0] ?? '';
}

/** Is `name` a whole line (or the first word of one) of a symbol list. */
export function listed(text: string, name: string): boolean {
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) {
    const before = i === 0 ? '\n' : text[i - 1];
    const after = text[i + name.length] ?? '\n';
    if (before === '\n' && (after === '\n' || after === ' ')) return true;
  }
  return false;
}

/**
 * Pure: names of `pairs` that are not in `available_filter_functions` (one function a line,
 * `name [module]` for modules) or that the kprobe blacklist (`0xSTART-0xEND\tname` lines)
 * excludes, each with its closest traceable names. kmem pairs are checked elsewhere.
 */
export function findUnknownNames(pairs: PairSpec[], functionsText: string, blacklistText = ''): UnknownName[] {
  const wanted = new Map<string, 'alloc' | 'free'>();
  for (const p of pairs) {
    // Names found by track: auto that the kernel lacks are left out when tracing is set up.
    if (p.auto) continue;
    for (const name of allocatorsOf(p)) if (!(isKmemPair(p) && isSlabEvent(name))) wanted.set(name, 'alloc');
    for (const name of releasersOf(p)) if (!(isKmemPair(p) && isSlabEvent(name)) && !wanted.has(name)) wanted.set(name, 'free');
  }
  const blacklisted = new Set(
    blacklistText
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[1])
      .filter((n): n is string => !!n),
  );
  const missing = [...wanted].filter(([name]) => !listed(functionsText, name) || blacklisted.has(name));
  if (missing.length === 0) return [];
  // Only for names that are wrong: compare against every traceable function.
  const matchers = missing.map(([name, role]) => ({ name, role, m: new CloseMatches(name) }));
  for (const line of functionsText.split('\n')) {
    const fn = filterFunctionName(line);
    if (fn === '' || blacklisted.has(fn)) continue;
    for (const x of matchers) if (fn !== x.name) x.m.offer(fn);
  }
  return matchers.map((x) => ({ name: x.name, role: x.role, blacklisted: blacklisted.has(x.name), closeMatches: x.m.matches }));
}

export function describeUnknownNames(unknown: UnknownName[]): string {
  return unknown
    .map((u) => {
      const hint = u.closeMatches.length ? `did you mean ${u.closeMatches.join(', ')}?` : 'no similar traceable function';
      const why = u.blacklisted ? 'cannot be probed (kprobe blacklist)' : 'is not a traceable kernel function on this kernel';
      return `"${u.name}" (${u.role}) ${why}: ${hint}`;
    })
    .join('; ');
}

/** The kprobe blacklist text, '' where debugfs is not mounted. */
export function readKprobeBlacklist(path = '/sys/kernel/debug/kprobes/blacklist'): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
