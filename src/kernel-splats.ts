// What counts as a kernel splat: the one list that both the run's dmesg check
// (kernel-side/splats.ts) and the VM's console watch (lab/console-watch.ts) read. A splat
// is the kernel reporting its own trouble (an oops, a BUG, a WARN_ON, a stall), which no leak verdict can
// ignore. Changing this list changes verdicts: each kind has a golden case under test/data/splats/.

export interface SplatPattern {
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
