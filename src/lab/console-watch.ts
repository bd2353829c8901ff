// Reads the guest's serial console as it streams: the markers /init prints, kernel panics and
// oopses (with an excerpt), and a size-capped copy of the text. Memory stays bounded whatever the
// guest prints.
import { PANIC, PANIC_END, splatOf } from '../kernel-splats.js';
import { MARKER } from './guest-scripts.js';

const CONTEXT_BEFORE = 5;
/** The firmware's terminal resets and colour codes (SeaBIOS prints some before the kernel starts). */
const TERMINAL_CONTROL = /\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])/g;
/** Context kept for a panic that comes long after the first splat (the oops that caused it). */
const RECENT_LINES = 40;
const EXCERPT_MAX_LINES = 200;

interface ConsoleEvents {
  init?: (guestUptime: number) => void;
  jobStart?: () => void;
  jobExit?: (code: number) => void;
  setupFailed?: (reason: string) => void;
  panic?: () => void;
}

export class ConsoleWatch {
  private partial = '';
  private readonly recent: string[] = [];
  private excerptLines: string[] | null = null;
  private excerptDone = false;
  private head = '';
  private tail: string[] = [];
  private tailBytes = 0;
  private omitted = 0;
  initSeen = false;
  jobStarted = false;
  exitCode: number | null = null;
  setupFailure: string | null = null;
  kernelPanic = false;

  constructor(
    private readonly nonce: string,
    private readonly events: ConsoleEvents = {},
    private readonly headMax = 32 * 1024,
    private readonly tailMax = 224 * 1024,
  ) {}

  push(chunk: string): void {
    this.keep(chunk);
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > 64 * 1024) {
      lines.push(this.partial);
      this.partial = '';
    }
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  /** Call once the stream ended: the last line may have no newline. */
  end(): void {
    if (this.partial) this.line(this.partial.replace(/\r$/, ''));
    this.partial = '';
  }

  /** The console text, capped: its beginning and its end, with the size of what was left out. */
  text(): string {
    const gap = this.omitted ? `\n[... ${this.omitted} bytes of console output omitted ...]\n` : '';
    return this.head + gap + this.tail.join('');
  }

  /** The kernel splat (a few lines before it to its end), or '' when there was none. */
  excerpt(): string {
    return this.excerptLines?.map((l) => l.replace(TERMINAL_CONTROL, '')).join('\n') ?? '';
  }

  private keep(chunk: string): void {
    if (this.head.length < this.headMax) {
      const room = this.headMax - this.head.length;
      this.head += chunk.slice(0, room);
      chunk = chunk.slice(room);
      if (!chunk) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes > this.tailMax && this.tail.length > 1) {
      const dropped = this.tail.shift()!;
      this.tailBytes -= dropped.length;
      this.omitted += dropped.length;
    }
  }

  private line(line: string): void {
    const at = line.indexOf(MARKER);
    if (at >= 0)
      this.marker(
        line
          .slice(at + MARKER.length)
          .trim()
          .split(/\s+/),
      );
    const panic = PANIC.test(line) && !this.kernelPanic;
    if (this.excerptLines && !this.excerptDone) {
      this.excerptLines.push(line);
      if (PANIC_END.test(line) || this.excerptLines.length >= EXCERPT_MAX_LINES) this.excerptDone = true;
    } else if (!this.excerptLines && splatOf(line, true)) {
      // A crash starts the excerpt (an oops ends in a panic under oops=panic; a BUG may not).
      this.excerptLines = [...this.recent.slice(-CONTEXT_BEFORE), line];
    } else if (panic) {
      // The first splat's excerpt was closed long before: show what led to the panic instead.
      this.excerptLines = [...this.recent, line];
      this.excerptDone = false;
    }
    if (panic) {
      this.kernelPanic = true;
      this.events.panic?.();
    }
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
  }

  private marker(words: string[]): void {
    if (words[0] === 'init' && !this.initSeen) {
      this.initSeen = true;
      this.events.init?.(Number(words[1]));
    } else if (words[0] === 'setup-failed') {
      this.setupFailure = words.slice(1).join(' ');
      this.events.setupFailed?.(this.setupFailure);
    } else if (words[0] === this.nonce && words[1] === 'job-start' && !this.jobStarted) {
      this.jobStarted = true;
      this.events.jobStart?.();
    } else if (words[0] === this.nonce && words[1] === 'job-exit' && /^\d+$/.test(words[2] ?? '')) {
      this.exitCode = Number(words[2]);
      this.events.jobExit?.(this.exitCode);
    }
  }
}
