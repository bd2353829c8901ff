// kprobe_profile counts of the run's probes: `a0 12 0` as the kernel prints it, or
// `abRUN/a0 hits=12 misses=0` as the target runner saves it. A miss is a probe hit the kernel
// could not trace: for a return probe, an allocation whose result never reached the trace.

export interface ProbeCount {
  /** Event name without its group: `a0` (return of the allocator of pair 0), `f0` (releaser). */
  event: string;
  /** Index of the tracked pair, -1 for an event not named by alloc-balance. */
  pair: number;
  /** Which of the pair's allocators or releasers: `a0_2` is the third allocator of pair 0. */
  index: number;
  role: 'alloc' | 'free' | 'other';
  hits: number;
  misses: number;
}

const LINE = /^\s*(\S+)\s+(?:hits=)?(\d+)\s+(?:misses=)?(\d+)\s*$/;

export function parseKprobeProfile(text: string): ProbeCount[] {
  const out: ProbeCount[] = [];
  let nonEmpty = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    nonEmpty++;
    const m = LINE.exec(raw);
    if (!m) continue;
    const event = m[1].slice(m[1].lastIndexOf('/') + 1);
    const own = /^([af])(\d+)(?:_(\d+))?$/.exec(event);
    out.push({
      event,
      pair: own ? Number(own[2]) : -1,
      index: own?.[3] ? Number(own[3]) : 0,
      role: own ? (own[1] === 'a' ? 'alloc' : 'free') : 'other',
      hits: Number(m[2]),
      misses: Number(m[3]),
    });
  }
  if (nonEmpty > 0 && out.length === 0) throw new Error('no "EVENT HITS MISSES" line: not a kprobe_profile');
  return out;
}
