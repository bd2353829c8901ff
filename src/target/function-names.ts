// Refuses tracked names the kernel cannot trace, before anything is loaded, and suggests the
// closest traceable names.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { PairSpec } from '../core/model.js';

/** `kmalloc:kfree` is traced through kmem tracepoints, not function probes. */
export function isKmemPair(p: PairSpec): boolean {
  return p.alloc === 'kmalloc' && p.free === 'kfree';
}

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
export class CloseMatches {
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

export interface UnknownName {
  name: string;
  role: 'alloc' | 'free';
  closeMatches: string[];
}

/** Pure: `alloc_netdev_mqs` or `rte_kni_fn [rte_kni]` -> the function name. */
export function filterFunctionName(line: string): string {
  return line.trim().split(/\s+/)[0] ?? '';
}

/**
 * Names of `pairs` that are not in the function list (one name a line, streamed; read a
 * second time only to find close matches), with close matches. kmem pairs are checked
 * elsewhere (their tracepoints must exist).
 */
export async function findUnknownNames(
  pairs: PairSpec[],
  functionLines: () => AsyncIterable<string>,
  blacklisted: Set<string>,
): Promise<UnknownName[]> {
  const wanted = new Map<string, 'alloc' | 'free'>();
  for (const p of pairs) {
    if (isKmemPair(p)) continue;
    wanted.set(p.alloc, 'alloc');
    if (!wanted.has(p.free)) wanted.set(p.free, 'free');
  }
  const seen = new Set<string>();
  for await (const line of functionLines()) {
    const fn = filterFunctionName(line);
    if (wanted.has(fn)) seen.add(fn);
  }
  const missing = [...wanted].filter(([name]) => !seen.has(name) || blacklisted.has(name));
  if (missing.length === 0) return [];
  const matchers = missing.map(([name, role]) => ({ name, role, m: new CloseMatches(name) }));
  for await (const line of functionLines()) {
    const fn = filterFunctionName(line);
    if (fn === '' || blacklisted.has(fn)) continue;
    for (const x of matchers) if (fn !== x.name) x.m.offer(fn);
  }
  return matchers.map((x) => ({ name: x.name, role: x.role, closeMatches: x.m.matches }));
}

export function describeUnknownNames(unknown: UnknownName[]): string {
  return unknown
    .map((u) => {
      const hint = u.closeMatches.length ? `did you mean ${u.closeMatches.join(', ')}?` : 'no similar traceable function';
      return `"${u.name}" (${u.role}) is not a traceable kernel function on this kernel: ${hint}`;
    })
    .join('; ');
}

export function lines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path), crlfDelay: Infinity });
}

/** Function names in the kprobe blacklist (`/sys/kernel/debug/kprobes/blacklist`: `0xSTART-0xEND\tname`). */
export async function readKprobeBlacklist(path = '/sys/kernel/debug/kprobes/blacklist'): Promise<Set<string>> {
  const out = new Set<string>();
  if (!existsSync(path)) return out;
  for await (const line of lines(path)) {
    const name = line.trim().split(/\s+/)[1];
    if (name) out.add(name);
  }
  return out;
}
