import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TraceAnalyzer, type AnalyzerOptions } from '../../src/core/trace-analyzer.js';
import type { AnalysisResult } from '../../src/core/model.js';
import { ModuleMap } from '../../src/core/module-map.js';

export const DATA = join(import.meta.dirname, '..', 'data');
export const NETDEV = { alloc: 'alloc_netdev_mqs', free: 'free_netdev' };

export function fixture(name: string): string {
  return readFileSync(join(DATA, name), 'utf8');
}

/** Analyzes text line by line through `push`. */
export function analyzeText(text: string, options: AnalyzerOptions): AnalysisResult {
  const a = new TraceAnalyzer(options);
  for (const line of text.split('\n')) a.push(line);
  return a.finish();
}

/** Analyzes text through `pushRange` over the bytes of the whole text, as the file reader does. */
export function analyzeRanges(text: string, options: AnalyzerOptions): AnalysisResult {
  const a = new TraceAnalyzer(options);
  const bytes = Buffer.from(text, 'latin1');
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(10, start);
    if (nl < 0) {
      if (start < bytes.length) a.pushRange(bytes, start, bytes.length);
      break;
    }
    a.pushRange(bytes, start, nl);
    start = nl + 1;
  }
  return a.finish();
}

/** Analyzes text through `pushLines`, all its lines at once, as the file reader hands over a chunk. */
export function analyzeLines(text: string, options: AnalyzerOptions): AnalysisResult {
  const a = new TraceAnalyzer(options);
  const bytes = Buffer.from(text, 'latin1');
  a.pushLines(bytes, 0, bytes.length);
  return a.finish();
}

/** A recorded run of test/data/recorded: its files, the module map of its .ko, its stats and slabinfo. */
export function recorded(name: string, module = 'kni_like') {
  const dir = join(DATA, 'recorded', name);
  const file = (f: string) => join(dir, f);
  const map = new ModuleMap(
    module,
    readFileSync(file(`${module}.nm`), 'utf8'),
    JSON.parse(readFileSync(file('sections.json'), 'utf8')) as Record<string, string>,
  );
  return { dir, file, map, stats: [file('stats-cpu0.txt'), file('stats-cpu1.txt')], slabinfo: [file('slabinfo-before.txt'), file('slabinfo-after.txt')] };
}
