// The files beside the trace: per-CPU buffer stats, slabinfo, the trace read in line ranges, the
// analysis check, and a trace larger than one read.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { parseBufferStats } from '../../src/core/buffer-stats.js';
import { parseSlabinfo, slabDelta } from '../../src/core/slabinfo.js';
import { forEachLineChunk } from '../../src/core/trace-source.js';
import { checkAnalysis } from '../../src/core/analysis-check.js';
import { fixture, analyzeText, NETDEV } from '../support/trace-fixtures.js';
import { useTempDir } from '../support/temp-dir.js';

describe('per_cpu stats', () => {
  it('adds overrun and dropped events over CPUs', () => {
    expect(parseBufferStats(fixture('cpu-stats.txt'))).toEqual({ cpus: 2, overrun: 12, dropped: 3, lost: 15 });
  });
  it('refuses text that is no stats file', () => {
    expect(() => parseBufferStats('hello')).toThrow(/not a per_cpu\/cpuN\/stats file/);
  });
});

describe('slabinfo', () => {
  it('gives the change of each cache between two snapshots (the case: kmalloc-8192 grew)', () => {
    const [before, after] = parseSlabinfo(fixture('slabinfo-case.txt'));
    expect(slabDelta(before, after)).toEqual([{ cache: 'kmalloc-8192', before: 128016, after: 135760, delta: 7744 }]);
  });
  it('refuses text without rows', () => {
    expect(() => parseSlabinfo('nothing here')).toThrow(/not a \/proc\/slabinfo snapshot/);
  });
});

describe('line sources', () => {
  it('hands over whole lines whatever the chunks, and a last line without a break', async () => {
    const got: string[] = [];
    const n = await forEachLineChunk(Readable.from(['ab', 'c\r\nde', 'f\n\ng']), (bytes, from, to) => {
      got.push(bytes.toString('latin1', from, to));
      return 1;
    });
    expect(got).toEqual(['abc\r\n', 'def\n\n', 'g']);
    expect(n).toBe(3);
  });
});

describe('checkAnalysis', () => {
  it('accepts an analysis and says what is missing otherwise', () => {
    expect(checkAnalysis(analyzeText(fixture('case-rte-kni-before-fix.trace'), { pairs: [NETDEV] }))).toBe(null);
    expect(checkAnalysis([])).toBe('not an object');
    expect(checkAnalysis({ complete: true, lostEvents: 0, cycles: 1, problems: [] })).toBe('"pairs" is missing');
    expect(checkAnalysis({ complete: true, lostEvents: 0, cycles: 1, problems: [], pairs: [{}] })).toMatch(/pairs\[0\] lacks/);
  });
});

describe('analyzeTraces on a file larger than one read', () => {
  const dir = useTempDir('alloc-balance-big-trace-');
  it('gives the same result as line-by-line analysis, CRLF line ends included', async () => {
    const { analyzeTraces } = await import('../../src/core/analyze-traces.js');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const lines: string[] = [];
    for (let k = 0; k < 5000; k++) {
      const ts = (1000 + k / 1000).toFixed(6);
      if (k % 1000 === 0) lines.push(`           <...>-120     [000] .....  ${ts}: tracing_mark_write: alloc-balance cycle=${k / 1000 + 1} start`);
      lines.push(`    kni worker-${k}     [00${k % 2}] .....  ${ts}: ${k % 3 === 2 ? 'free_netdev <-kni_dev_remove' : 'alloc_netdev_mqs <-kni_ioctl_create'}`);
      if (k % 1000 === 999) lines.push(`           <...>-120     [000] .....  ${ts}: tracing_mark_write: alloc-balance cycle=${(k + 1) / 1000} end`);
    }
    const text = lines.join('\r\n');
    expect(text.length).toBeGreaterThan(3 * 65536);
    const path = join(dir, 'big.trace');
    writeFileSync(path, text);
    const fromFile = await analyzeTraces({ traces: [path], pairs: [NETDEV] });
    expect(fromFile).toEqual(analyzeText(lines.join('\n'), { pairs: [NETDEV] }));
    expect(fromFile.cycles).toBe(5);
    expect(fromFile.pairs[0]).toMatchObject({ allocs: 3334, frees: 1666 });
  });
});

describe('a file read ahead on another thread', () => {
  const dir = useTempDir('alloc-balance-read-ahead-');
  it('gives the bytes from an offset on, in order, through a ring smaller than the file', async () => {
    const { ReadAhead } = await import('../../src/core/read-ahead.js');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 9)) & 255));
    const path = join(dir, 'bytes');
    writeFileSync(path, bytes);
    const got: Buffer[] = [];
    // Each chunk is valid until the next is asked for: copied.
    for (const chunk of new ReadAhead(path, 1234, 4096).chunks()) got.push(Buffer.from(chunk));
    expect(got.length).toBe(Math.ceil((bytes.length - 1234) / 4096));
    expect(Buffer.concat(got).equals(bytes.subarray(1234))).toBe(true);
  });
  it("throws the thread's read error, and stop() ends a reading left halfway", async () => {
    const { ReadAhead } = await import('../../src/core/read-ahead.js');
    expect(() => [...new ReadAhead(dir, 0, 4096).chunks()]).toThrow(/EISDIR/);
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const path = join(dir, 'long');
    writeFileSync(path, Buffer.alloc(1 << 20, 65));
    const ahead = new ReadAhead(path, 0, 4096);
    expect(ahead.chunks().next().value?.length).toBe(4096);
    ahead.stop();
  });
});
