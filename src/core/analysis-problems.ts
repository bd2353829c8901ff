// The texts the analysis gives a user when a trace cannot be trusted as it is, each with the fix.

export const problemText = {
  bufferOverwrote: (n: number) => `the trace buffer overwrote ${n} events (entries-in-buffer < entries-written): raise trace-buffer-kb`,
  lostNotes: (n: number) => `the trace reports ${n} lost events ([LOST n EVENTS]): raise trace-buffer-kb`,
  statsLost: (n: number) => `the per-CPU buffer stats count ${n} overrun or dropped events: raise trace-buffer-kb`,
  missingEnds: (n: number) => `${n} cycle(s) started without an end marker: the workload cycle did not finish`,
  strayEnds: (n: number) => `${n} cycle end marker(s) without a start marker`,

  probeMissed(pair: string, what: string, role: 'alloc' | 'free' | 'other', misses: number, hits: number): string {
    const why =
      role === 'alloc'
        ? 'more calls were in flight at once than the probe has kretprobe instances (maxactive): raise maxactive'
        : 'the probe fired while another probe handler ran';
    return (
      `${pair}: ${what} missed ${misses} of ${hits + misses} hits (kprobe_profile): ` +
      `${why}; those ${role === 'free' ? 'releases' : 'allocations'} are not in the trace`
    );
  },
  countsDisagree: (pair: string, alloc: string, functionAllocs: number, probeAllocs: number) =>
    `${pair}: the function tracer counted ${functionAllocs} calls of ${alloc}, the probes ${probeAllocs} allocations`,
  noEvents: (pair: string, alloc: string, free: string, trace = 'the trace') =>
    `${pair}: no ${alloc} or ${free} event in ${trace}: check that the pair is traced`,
  /** Comparing: one side's analysis was made without the pair. */
  pairMissing: (pair: string, side: string) => `${pair}: not measured on ${side} (the ${side} analysis has no such pair)`,
  outsideWithoutStack: (pair: string, n: number, example: string) =>
    `${pair}: ${n} allocation(s) attributed to call sites outside the module (e.g. ${example}) with no stack: ` +
    `if the module reaches them, record stacks to attribute them`,
  moreReleases: (pair: string, alloc: string, free: string, allocs: number, frees: number) =>
    `${pair}: ${frees} call(s) of ${free} against ${allocs} of ${alloc}: more releases than allocations, ` +
    `so ${free} does not release what ${alloc} allocates (or the trace began after the allocations): check the pair`,
  badFreesCapped: (pair: string, n: number, max: number) => `${pair}: ${n} bad frees, the first ${max} listed`,
  freedKeptCapped: (pair: string, max: number) =>
    `${pair}: more than ${max} objects allocated outside the module were live at once: frees of addresses never seen allocated were not judged after that`,
  objectsCapped: (pair: string, n: number, max: number) => `${pair}: ${n} objects outstanding, the first ${max} listed`,
};
