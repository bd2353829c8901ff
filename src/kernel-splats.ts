// What counts as a kernel splat: the one list that both the run's dmesg check
// (kernel-side/splats.ts) and the VM's console watch (lab/console-watch.ts) read. A splat
// is the kernel reporting its own trouble (an oops, a BUG, a WARN_ON, a stall), which no leak verdict can
// ignore. Changing this list changes verdicts: each kind has a golden case under test/data/splats/.

interface SplatPattern {
  /** The name reports use (`the kernel reported WARNING during the run`). */
  kind: string;
  re: RegExp;
  /**
   * The kernel may not survive it (it panics under oops=panic): the console watch starts its crash
   * excerpt at the first such line. The others (WARNING, KASAN, stalls) are reported from dmesg.
   */
  crash: boolean;
}

/** A panic's first line. */
export const PANIC = /Kernel panic - not syncing/;

/** In order: a line is of the first kind it matches (`BUG: KASAN:` is a BUG). */
export const SPLAT_PATTERNS: readonly SplatPattern[] = [
  { kind: 'kernel panic', re: PANIC, crash: true },
  { kind: 'oops', re: /\bOops\b/, crash: true },
  { kind: 'general protection fault', re: /general protection fault/, crash: true },
  { kind: 'BUG', re: /\bBUG:|kernel BUG at/, crash: true },
  { kind: 'page fault', re: /Unable to handle kernel/, crash: true },
  { kind: 'sysrq crash', re: /sysrq: Trigger a crash/, crash: true },
  { kind: 'KASAN', re: /\bKASAN\b/, crash: false },
  { kind: 'WARNING', re: /\bWARNING:/, crash: false },
  { kind: 'RCU stall', re: /rcu_(sched|preempt|bh) self-detected stall|rcu: INFO|rcu: .*detected stalls on CPUs/, crash: false },
  { kind: 'hung task', re: /blocked for more than \d+ seconds/, crash: false },
];

/** The last line of one report (a WARN's, an oops's, a panic's). */
export const REPORT_END = /---\[ end (trace|Kernel panic)/;
/** The line that ends a panic: after it the kernel prints nothing more. */
export const PANIC_END = /---\[ end Kernel panic/;

/** The pattern `line` is a splat of, or undefined. */
export function splatOf(line: string, crashOnly = false): SplatPattern | undefined {
  return SPLAT_PATTERNS.find((p) => (!crashOnly || p.crash) && p.re.test(line));
}

/** A crash report in a few words, and the function it happened in. */
export interface CrashSummary {
  /** `NULL pointer dereference`, `general protection fault`, `kernel BUG at mm/slub.c:4300`, `soft lockup`. */
  what: string;
  /** `abcase_open+0x2a` (from RIP, or pc on arm64), when the report names it. */
  where?: string;
}

const CRASH_WORDS: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/BUG: kernel NULL pointer dereference/, () => 'NULL pointer dereference'],
  [/BUG: unable to handle page fault/, () => 'page fault'],
  [/Unable to handle kernel NULL pointer dereference/, () => 'NULL pointer dereference'],
  [/Unable to handle kernel (paging request|[a-z ]+fault)/, (m) => m[1]],
  [/general protection fault/, () => 'general protection fault'],
  [/kernel BUG at (\S+?)!?$/m, (m) => `kernel BUG at ${m[1]}`],
  [/BUG: (.+?)(?: in [A-Za-z_][\w.]*\+0x.*|,.*)?$/m, (m) => m[1]],
  [/soft lockup/, () => 'soft lockup'],
  [/\bOops\b/, () => 'oops'],
  [/Kernel panic - not syncing: (.+)$/m, (m) => `panic: ${m[1].trim()}`],
];

/** The summary of the first crash in a console or dmesg excerpt; undefined when it holds none. */
export function describeCrash(text: string): CrashSummary | undefined {
  const body = text
    .split('\n')
    .map((l) => l.replace(/^\[\s*\d+\.\d+\]\s?/, ''))
    .join('\n');
  for (const [re, what] of CRASH_WORDS) {
    const m = re.exec(body);
    if (!m) continue;
    const where = /(?:RIP: [0-9a-f]{4}:|pc : |BUG: .* in )([A-Za-z_][\w.]*\+0x[0-9a-f]+)/.exec(body)?.[1];
    return { what: what(m), ...(where ? { where } : {}) };
  }
  return undefined;
}
