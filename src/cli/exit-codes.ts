// The exit status of every `alloc-balance` command, in one table (README "The command line").
export const EXIT = {
  /** The command did what was asked; for compare and demo: the verdict passed (demo: the leak was caught). */
  ok: 0,
  /** compare: the verdict is fail; target: the run or its restore failed; demo: the leak was not caught. */
  fail: 1,
  /** compare: the verdict is inconclusive (a trace that cannot be trusted, a pair not measured). */
  inconclusive: 2,
  /** Bad input: an unknown command or option, a missing or unreadable file, a malformed value. */
  usage: 64,
  /** An unexpected exception: a bug or the machine, not the input. */
  internal: 70,
  /** demo: stopped by Ctrl-C or SIGTERM (target run: 128 + the signal's number). */
  cancelled: 130,
} as const;

/** compare's exit status for each verdict. */
export const VERDICT_EXIT = { pass: EXIT.ok, fail: EXIT.fail, inconclusive: EXIT.inconclusive } as const;
