// Reading trace text from a file or a stream (stdin) in chunks of whole lines. The edge between
// files and the pure analyzer: lines are handed over synchronously, nothing kept.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ReadAhead } from './read-ahead.js';

type TraceSource = string | Readable;

/**
 * Handed a chunk of the trace whose bytes[from, to) are whole lines: `to` follows a line break, or
 * ends the trace (its last line, without one). Returns the number of lines read there.
 */
type OnLines = (bytes: Buffer, from: number, to: number) => number;

// 64 KiB reads: larger buffers would grow peak RSS for no speed gain.
const CHUNK = 1 << 16;
/** Bytes of a file read on this thread: about what is analyzed while a worker thread starts. */
const READ_HERE = 32 << 20;

/**
 * The lines of a source, in order, a chunk of whole lines at a time, without cutting them out or
 * decoding them: the analyzer reads the bytes it needs (trace text is ASCII apart from task
 * names). Resolves with the number of lines.
 */
export async function forEachLineChunk(source: TraceSource, onLines: OnLines): Promise<number> {
  const lines = new LineChunks(onLines);
  if (typeof source === 'string') {
    for (const chunk of fileChunks(source)) lines.inPlace(chunk);
  } else {
    for await (const chunk of source as AsyncIterable<Buffer | string>) lines.append(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  }
  return lines.end();
}

/**
 * The file's bytes in chunks, each valid until the next is asked for, read synchronously
 * (asynchronous reads cost a round trip through the thread pool each). Past its first bytes, a
 * long file is read ahead on another thread; its start is read here while that thread starts.
 */
function* fileChunks(path: string): Generator<Buffer> {
  const fd = openSync(path, 'r');
  let ahead: ReadAhead | null = null;
  try {
    if (fstatSync(fd).size > READ_HERE) ahead = new ReadAhead(path, READ_HERE, CHUNK);
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let position = 0; ahead === null || position < READ_HERE; ) {
      const n = readSync(fd, buffer, 0, ahead === null ? CHUNK : Math.min(CHUNK, READ_HERE - position), position);
      if (n === 0) break;
      position += n;
      yield buffer.subarray(0, n);
    }
    if (ahead !== null) yield* ahead.chunks();
  } finally {
    ahead?.stop();
    closeSync(fd);
  }
}

/** One buffer of whole lines and, at its front, the line the last read cut. */
class LineChunks {
  private buffer = Buffer.allocUnsafe(CHUNK);
  /** Bytes of the cut line kept at the front of the buffer. */
  private kept = 0;
  private count = 0;
  constructor(private readonly onLines: OnLines) {}

  /** `n` bytes were appended after the kept ones: every whole line is handed over. */
  private filled(n: number): void {
    const bytes = this.buffer.subarray(0, this.kept + n);
    const whole = bytes.lastIndexOf(10) + 1;
    if (whole > 0) this.count += this.onLines(bytes, 0, whole);
    this.kept = bytes.length - whole;
    if (this.kept > 0 && whole > 0) bytes.copy(this.buffer, 0, whole);
  }

  /** A chunk that stays where it is until its lines are read: only the lines it cuts are copied. */
  inPlace(chunk: Buffer): void {
    const first = chunk.indexOf(10);
    if (first < 0) {
      this.append(chunk);
      return;
    }
    let from = 0;
    if (this.kept > 0) {
      this.append(chunk.subarray(0, first + 1));
      from = first + 1;
    }
    const whole = chunk.lastIndexOf(10) + 1;
    if (whole > from) this.count += this.onLines(chunk, from, whole);
    if (whole < chunk.length) this.append(chunk.subarray(whole));
  }

  /** A chunk of a stream. */
  append(chunk: Buffer): void {
    if (this.buffer.length - this.kept < chunk.length) this.grow(Math.max(this.buffer.length * 2, this.kept + chunk.length));
    chunk.copy(this.buffer, this.kept);
    this.filled(chunk.length);
  }

  private grow(size: number): void {
    const bigger = Buffer.allocUnsafe(size);
    this.buffer.copy(bigger, 0, 0, this.kept);
    this.buffer = bigger;
  }

  end(): number {
    if (this.kept > 0) {
      this.count += this.onLines(this.buffer.subarray(0, this.kept), 0, this.kept);
      this.kept = 0;
    }
    return this.count;
  }
}
