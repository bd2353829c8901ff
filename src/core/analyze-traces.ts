// Analysis of trace files on disk (or stdin): the I/O edge over TraceAnalyzer. Every bad input
// is a UsageError naming the file and what was expected.
import { readFileSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { AnalysisResult, PairSpec } from './model.js';
import { TraceAnalyzer } from './trace-analyzer.js';
import { forEachLineChunk } from './trace-source.js';
import { parseBufferStats } from './buffer-stats.js';
import { parseSlabinfo, slabDelta, type SlabSnapshot } from './slabinfo.js';
import { slabCheck } from './slab-check.js';
import { parseKprobeProfile } from './kprobe-profile.js';
import type { ModuleMap } from './module-map.js';
import { UsageError } from '../errors.js';

interface AnalyzeTracesOptions {
  /** Paths; '-' reads `stdin`. Analyzed in order as one trace. */
  traces: string[];
  pairs: PairSpec[];
  /** per_cpu/cpuN/stats files read at the end of the run. */
  stats?: string[];
  /** /proc/slabinfo snapshots: one file with two snapshots, or two files (before, after). */
  slabinfo?: string[];
  /** The run's kprobe_profile counts (`GROUP/aN hits=H misses=M`): misses are lost events. */
  kprobeProfile?: string;
  moduleMap?: ModuleMap;
  stdin?: Readable;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (e) {
    throw new UsageError(`${what} ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export async function analyzeTraces(options: AnalyzeTracesOptions): Promise<AnalysisResult> {
  if (options.traces.length === 0) throw new UsageError('no trace given: pass --trace FILE (or --trace - for standard input)');
  const analyzer = new TraceAnalyzer({ pairs: options.pairs, moduleMap: options.moduleMap });
  const push = (bytes: Buffer, from: number, to: number) => analyzer.pushLines(bytes, from, to);
  for (const path of options.traces) {
    const before = analyzer.recognizedLines;
    let lines: number;
    if (path === '-') {
      lines = await forEachLineChunk(options.stdin ?? process.stdin, push);
    } else {
      try {
        if (!statSync(path).isFile()) throw new UsageError(`trace ${path}: not a file`);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`trace ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      lines = await forEachLineChunk(path, push);
    }
    const name = path === '-' ? 'standard input' : `trace ${path}`;
    if (lines === 0) throw new UsageError(`${name} is empty: expected the text of /sys/kernel/tracing/trace or trace_pipe`);
    if (analyzer.recognizedLines === before) {
      throw new UsageError(`${name}: no trace line in ${lines} line(s): expected the text of /sys/kernel/tracing/trace or trace_pipe`);
    }
  }
  for (const path of options.stats ?? []) {
    try {
      analyzer.addBufferStats(parseBufferStats(readText(path, 'stats file')));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`stats file ${path}: ${(e as Error).message}`);
    }
  }
  if (options.kprobeProfile !== undefined) {
    const path = options.kprobeProfile;
    try {
      analyzer.addProbeCounts(parseKprobeProfile(readText(path, 'kprobe profile')));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`kprobe profile ${path}: ${(e as Error).message}`);
    }
  }
  const result = analyzer.finish();
  const slabFiles = options.slabinfo ?? [];
  if (slabFiles.length > 0) {
    const snapshots: SlabSnapshot[] = [];
    for (const path of slabFiles) {
      try {
        snapshots.push(...parseSlabinfo(readText(path, 'slabinfo file')));
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`slabinfo file ${path}: ${(e as Error).message}`);
      }
    }
    if (snapshots.length < 2) throw new UsageError('slabinfo: two snapshots are needed (before and after), in one file or two');
    const [before, after] = [snapshots[0], snapshots[snapshots.length - 1]];
    result.slab = slabDelta(before, after);
    result.slabCheck = result.pairs.map((p) => slabCheck(p, before, after));
  }
  return result;
}
