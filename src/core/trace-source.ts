// Reading trace text as lines from a file or a stream (stdin). The edge between files and the
// pure analyzer: chunks are split by hand, lines handed over synchronously, nothing kept.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';

export type TraceSource = string | Readable;

// 64 KiB chunks: large strings would grow the heap (and peak RSS) for no speed gain.
const CHUNK = 1 << 16;

function openStream(source: TraceSource): Readable {
  if (typeof source !== 'string') return source;
  return createReadStream(source, { highWaterMark: CHUNK });
}

/**
 * Calls `onLine` for every line of the source, in order; resolves with the number of lines.
 * Trace text is ASCII apart from task names, so it is decoded as latin1: cheap and lossless
 * for the fields that matter.
 */
export async function forEachLine(source: TraceSource, onLine: (line: string) => void): Promise<number> {
  return forEachLineRange(source, (text, start, end) => onLine(start === 0 && end === text.length ? text : text.slice(start, end)));
}

/**
 * Like forEachLine, without cutting lines out: `onLine(text, start, end)` gets the chunk and
 * the bounds of each line (line break and a trailing CR excluded).
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

/** The lines of a source as an async iterator (one chunk of lines in memory at a time). */
export async function* readLines(source: TraceSource): AsyncGenerator<string> {
  const stream = openStream(source);
  stream.setEncoding('latin1');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  if (rest !== '') yield rest;
}
