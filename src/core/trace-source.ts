// Reading trace text as lines from a file or a stream (stdin). The edge between files and the
// pure analyzer: chunks are split by hand, lines handed over synchronously, nothing kept.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';

type TraceSource = string | Readable;

// 64 KiB chunks: large strings would grow the heap (and peak RSS) for no speed gain.
const CHUNK = 1 << 16;

/**
 * The lines of a source, in order, without cutting them out: `onLine(text, start, end)` gets the
 * chunk and the bounds of each line (line break and a trailing CR excluded); resolves with the
 * number of lines. Trace text is ASCII apart from task names, so it is decoded as latin1: cheap
 * and lossless for the fields that matter.
 */
export async function forEachLineRange(source: TraceSource, onLine: (text: string, start: number, end: number) => void): Promise<number> {
  const splitter = new LineSplitter(onLine);
  if (typeof source === 'string') {
    // Files: one reused buffer, read synchronously. Each asynchronous read is a round trip
    // through the thread pool, and a trace is read faster than that round trip: with async
    // reads the parser spent almost half its time waiting.
    const fd = openSync(source, 'r');
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const bytesRead = readSync(fd, buffer, 0, CHUNK, null);
        if (bytesRead === 0) break;
        splitter.chunk(buffer.toString('latin1', 0, bytesRead));
      }
    } finally {
      closeSync(fd);
    }
  } else {
    source.setEncoding('latin1');
    for await (const text of source as AsyncIterable<string>) splitter.chunk(text);
  }
  return splitter.end();
}

/** Cuts chunks into lines; the line a chunk boundary cuts is joined alone, chunks stay flat strings. */
class LineSplitter {
  private rest = '';
  private count = 0;
  constructor(private readonly onLine: (text: string, start: number, end: number) => void) {}

  chunk(text: string): void {
    let start = 0;
    let nl = text.indexOf('\n');
    if (this.rest !== '') {
      if (nl < 0) {
        this.rest += text;
        return;
      }
      const line = this.rest + text.slice(0, nl);
      this.rest = '';
      this.emit(line, 0, line.length);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl >= 0) {
      this.emit(text, start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) this.rest = text.slice(start);
  }

  private emit(text: string, start: number, end: number): void {
    this.onLine(text, start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    this.count++;
  }

  end(): number {
    if (this.rest !== '') {
      const line = this.rest;
      this.rest = '';
      this.emit(line, 0, line.length);
    }
    return this.count;
  }
}
