import { allocatorsOf, pairMismatch, releasersOf } from './allocator-families.js';
import type { PairSpec } from './model.js';

export { isKmemPair } from './allocator-families.js';

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** A name as the kernel spells functions and modules (`alloc_netdev_mqs`, `free_netdev.part.0`). */
export function isKernelSymbol(name: string): boolean {
  return SYMBOL.test(name);
}

/** Parses `alloc_netdev_mqs:free_netdev`; throws with a message saying what is wrong. */
export function parsePair(text: string): PairSpec {
  const parts = text.trim().split(':');
  if (parts.length !== 2 || !isKernelSymbol(parts[0]) || !isKernelSymbol(parts[1])) {
    throw new Error(`"${text}" is not a pair: write ALLOC:FREE with two kernel function names, e.g. alloc_netdev_mqs:free_netdev`);
  }
  return { alloc: parts[0], free: parts[1] };
}

/** Parses pairs separated by commas, spaces or new lines. */
export function parsePairList(text: string): PairSpec[] {
  const items = text.split(/[\s,]+/).filter((s) => s !== '');
  if (items.length === 0) throw new Error('no pair given: write ALLOC:FREE, e.g. alloc_netdev_mqs:free_netdev');
  if (items.some((s) => s === 'auto')) throw new Error('auto stands alone: write either auto or ALLOC:FREE pairs');
  const pairs = items.map(parsePair);
  refuseSharedNames(pairs);
  for (const p of pairs) {
    const wrong = pairMismatch(p);
    if (wrong) throw new Error(wrong);
  }
  return pairs;
}

/**
 * Each traced function belongs to one pair: the probes and the analysis key events by function
 * name, so a name in two pairs would count each of its events twice.
 */
function refuseSharedNames(pairs: readonly PairSpec[]): void {
  const owner = new Map<string, PairSpec>();
  for (const p of pairs) {
    for (const name of [...allocatorsOf(p), ...releasersOf(p)]) {
      const first = owner.get(name);
      if (first === p) throw new Error(`${pairName(p)} names ${name} as both allocator and releaser`);
      if (first) {
        throw new Error(
          pairName(first) === pairName(p)
            ? `${pairName(p)} is listed twice: list each pair once`
            : `${name} is in two pairs (${pairName(first)}, ${pairName(p)}): a function can be traced in one pair only`,
        );
      }
      owner.set(name, p);
    }
  }
}

export function pairName(p: PairSpec): string {
  return `${p.alloc}:${p.free}`;
}

/** `auto` alone, or the pairs: what the track input asks for. */
export function parseTrack(text: string): 'auto' | PairSpec[] {
  return text.trim() === 'auto' ? 'auto' : parsePairList(text);
}
