// Reading trace text as lines from a file or a stream (stdin). The edge between files and the
// pure analyzer: the bytes are split by hand, lines handed over synchronously, nothing kept.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';

type TraceSource = string | Readable;

/** Handed the bytes, the bounds of one line (line break and a trailing CR excluded) and the bytes decoded (latin1). */
type OnLine = (bytes: Buffer, start: number, end: number, text: string) => void;

// 64 KiB reads: larger buffers would grow peak RSS for no speed gain.
const CHUNK = 1 << 16;

/**
 * The lines of a source, in order, without cutting them out or decoding them: the analyzer reads
 * the bytes it needs (trace text is ASCII apart from task names) and decodes only the rare lines
 * it takes apart. Resolves with the number of lines.
 */
export async function forEachLineRange(source: TraceSource, onLine: OnLine): Promise<number> {
  const lines = new LineSplitter(onLine);
  if (typeof source === 'string') {
    // Files: read synchronously into the splitter's buffer. Each asynchronous read is a round
    // trip through the thread pool, and a trace is read faster than that round trip: with async
    // reads the parser spent almost half its time waiting.
    const fd = openSync(source, 'r');
    try {
      for (;;) {
        const room = lines.room();
        const bytesRead = readSync(fd, room, 0, room.length, null);
        if (bytesRead === 0) break;
        lines.filled(bytesRead);
      }
    } finally {
      closeSync(fd);
    }
  } else {
    for await (const chunk of source as AsyncIterable<Buffer | string>) lines.append(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  }
  return lines.end();
}

/** One buffer of whole lines and, at its front, the line the last read cut. */
class LineSplitter {
  private buffer = Buffer.allocUnsafe(CHUNK);
  /** Bytes of the cut line kept at the front of the buffer. */
  private kept = 0;
  private count = 0;
  constructor(private readonly onLine: OnLine) {}

  /** Where the next bytes go: after the cut line, at least half a chunk (the buffer grows for a longer line). */
  room(): Buffer {
    if (this.buffer.length - this.kept < CHUNK / 2) this.grow(this.buffer.length * 2);
    return this.buffer.subarray(this.kept);
  }

  /** `n` bytes were written into room(): every whole line is handed over. */
  filled(n: number): void {
    const bytes = this.buffer.subarray(0, this.kept + n);
    // Line ends are found in the chunk decoded: a string's indexOf is a fraction of the cost of a
    // Buffer's (a call into C++ per line, more so from Node 24), and the analyzer reads the text too.
    const text = bytes.toString('latin1');
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.emit(bytes, start, nl, text);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.kept = bytes.length - start;
    if (this.kept > 0 && start > 0) bytes.copy(this.buffer, 0, start);
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

  private emit(bytes: Buffer, start: number, end: number, text: string): void {
    this.onLine(bytes, start, end > start && bytes[end - 1] === 13 ? end - 1 : end, text);
    this.count++;
  }

  end(): number {
    if (this.kept > 0) {
      const last = this.buffer.subarray(0, this.kept);
      this.emit(last, 0, this.kept, last.toString('latin1'));
      this.kept = 0;
    }
    return this.count;
  }
}
