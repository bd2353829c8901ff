import type { PairSpec } from './model.js';

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Parses `alloc_netdev_mqs:free_netdev`; throws with a message saying what is wrong. */
export function parsePair(text: string): PairSpec {
  const parts = text.trim().split(':');
  if (parts.length !== 2 || !SYMBOL.test(parts[0]) || !SYMBOL.test(parts[1])) {
    throw new Error(`"${text}" is not a pair: write ALLOC:FREE with two kernel function names, e.g. alloc_netdev_mqs:free_netdev`);
  }
  return { alloc: parts[0], free: parts[1] };
}

/** Parses pairs separated by commas, spaces or new lines. */
export function parsePairList(text: string): PairSpec[] {
  const items = text.split(/[\s,]+/).filter((s) => s !== '');
  if (items.length === 0) throw new Error('no pair given: write ALLOC:FREE, e.g. alloc_netdev_mqs:free_netdev');
  return items.map(parsePair);
}

export function pairName(p: PairSpec): string {
  return `${p.alloc}:${p.free}`;
}
