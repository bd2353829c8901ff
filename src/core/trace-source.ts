// Reading trace text as lines from a file or a stream (stdin). The edge between files and the
// pure analyzer: chunks are split by hand, lines handed over synchronously, nothing kept.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

export type TraceSource = string | Readable;

// 64 KiB chunks: large strings would grow the heap (and peak RSS) for no speed gain.
const CHUNK = 1 << 16;

function open(source: TraceSource): Readable {
  if (typeof source !== 'string') return source;
  return createReadStream(source, { highWaterMark: CHUNK });
}

/**
 * Calls `onLine` for every line of the source, in order; resolves with the number of lines.
 * Trace text is ASCII apart from task names, so it is decoded as latin1: cheap and lossless
 * for the fields that matter.
 */
export async function forEachLine(source: TraceSource, onLine: (line: string) => void): Promise<number> {
  const stream = open(source);
  stream.setEncoding('latin1');
  let rest = '';
  let count = 0;
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = rest === '' ? chunk : rest + chunk;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text.slice(start, end));
      count++;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    rest = text.slice(start);
  }
  if (rest !== '') {
    onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
    count++;
  }
  return count;
}

/**
 * Like forEachLine, without cutting lines out: `onLine(text, start, end)` gets the chunk and
 * the bounds of each line (line break and a trailing CR excluded).
 */
export async function forEachLineRange(source: TraceSource, onLine: (text: string, start: number, end: number) => void): Promise<number> {
  const stream = open(source);
  stream.setEncoding('latin1');
  let rest = '';
  let count = 0;
  for await (const text of stream as AsyncIterable<string>) {
    let start = 0;
    let nl = text.indexOf('\n');
    if (rest !== '') {
      // The line cut by the chunk boundary is joined alone: the chunk itself stays a flat string.
      if (nl < 0) {
        rest += text;
        continue;
      }
      const line = rest + text.slice(0, nl);
      rest = '';
      onLine(line, 0, line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length);
      count++;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl >= 0) {
      onLine(text, start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      count++;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    rest = text.slice(start);
  }
  if (rest !== '') {
    onLine(rest, 0, rest.endsWith('\r') ? rest.length - 1 : rest.length);
    count++;
  }
  return count;
}

/** The lines of a source as an async iterator (one chunk of lines in memory at a time). */
export async function* readLines(source: TraceSource): AsyncGenerator<string> {
  const stream = open(source);
  stream.setEncoding('latin1');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  if (rest !== '') yield rest;
}
