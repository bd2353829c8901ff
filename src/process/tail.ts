// The end of a program's output: what a message quotes and what a bounded buffer keeps.

/** The last `n` non-empty lines of a text, joined by `separator` (' | ' puts them on one line). */
export function lastLines(text: string, n: number, separator = '\n'): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-n).join(separator);
}

/** The last `max` characters of a text. */
export function lastChars(text: string, max: number): string {
  return text.length > max ? text.slice(-max) : text;
}

/** Keeps the last `max` characters of a growing text. */
export class TailBuffer {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > this.max * 2) this.compact();
  }
  private compact(): void {
    const all = this.parts.join('');
    const kept = all.slice(-this.max);
    this.parts = [kept];
    this.size = kept.length;
  }
  text(): string {
    this.compact();
    return this.parts.join('');
  }
}

/** Calls `onLine` with each complete line of a stream's chunks; `flush` hands over an unfinished last line. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; flush(): void } {
  let partial = '';
  return {
    push(chunk) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    },
    flush() {
      if (partial) onLine(partial);
      partial = '';
    },
  };
}
