// Reads and writes tracefs files. Writes that the kernel refuses throw with the file, the
// text written and the kernel's own explanation from error_log when it gave one.
import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, rmdirSync, createReadStream } from 'node:fs';
import { join } from 'node:path';

const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export class TracefsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TracefsError';
  }
}

export function findTracefs(candidates = TRACEFS_CANDIDATES): string {
  for (const c of candidates) if (existsSync(join(c, 'trace'))) return c;
  throw new TracefsError(`tracefs is not mounted (looked in ${candidates.join(', ')}): mount -t tracefs tracefs /sys/kernel/tracing`);
}

export class Tracefs {
  constructor(readonly root: string) {}

  path(rel: string): string {
    return rel.startsWith('/') ? rel : join(this.root, rel);
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  list(rel: string): string[] {
    return readdirSync(this.path(rel));
  }

  /** Replaces the file's content (`echo X > file`). */
  write(rel: string, text: string): void {
    this.guard(rel, text, () => writeFileSync(this.path(rel), text));
  }

  /** Appends (`echo X >> file`): kprobe_events, set_ftrace_filter without clearing. */
  append(rel: string, text: string): void {
    this.guard(rel, text, () => appendFileSync(this.path(rel), text));
  }

  mkdir(rel: string): void {
    this.guard(rel, '(mkdir)', () => mkdirSync(this.path(rel)));
  }

  rmdir(rel: string): void {
    this.guard(rel, '(rmdir)', () => rmdirSync(this.path(rel)));
  }

  stream(rel: string): NodeJS.ReadableStream {
    return createReadStream(this.path(rel));
  }

  private errorLog(): string[] {
    try {
      return this.read('error_log')
        .split('\n')
        .filter((l) => l.trim() !== '');
    } catch {
      return [];
    }
  }

  private guard(rel: string, text: string, op: () => void): void {
    const before = this.errorLog().length;
    try {
      op();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // error_log keeps old entries: show only what this write added.
      const why = this.errorLog()
        .slice(before)
        .map((l) => l.trim())
        .join(' | ');
      throw new TracefsError(`${this.path(rel)}: writing ${JSON.stringify(text.trim())} failed (${err.code ?? err.message})${why ? `: ${why}` : ''}`);
    }
  }
}
