// Is this parsed JSON an AnalysisResult? Checks the fields compare and the renderers read.

function isCounts(v: unknown): boolean {
  const o = v as Record<string, unknown>;
  return typeof o === 'object' && o !== null && ['allocs', 'frees', 'outstanding'].every((k) => typeof o[k] === 'number');
}

/** null when the value is usable as an AnalysisResult, else what is wrong. */
export function checkAnalysis(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const o = value as Record<string, unknown>;
  if (typeof o.complete !== 'boolean') return '"complete" is missing';
  if (typeof o.lostEvents !== 'number') return '"lostEvents" is missing';
  if (typeof o.cycles !== 'number') return '"cycles" is missing';
  if (!Array.isArray(o.pairs)) return '"pairs" is missing';
  if (!Array.isArray(o.problems)) return '"problems" is missing';
  for (const [k, p] of (o.pairs as unknown[]).entries()) {
    const r = p as Record<string, unknown>;
    if (!isCounts(p) || typeof r.alloc !== 'string' || typeof r.free !== 'string') return `pairs[${k}] lacks alloc, free or counts`;
    if (!isCounts(r.module) || typeof r.leakedPerCycle !== 'number' || !Array.isArray(r.callers) || !Array.isArray(r.cycles) || !Array.isArray(r.objects)) {
      return `pairs[${k}] lacks module, leakedPerCycle, callers, cycles or objects`;
    }
    for (const [j, c] of (r.callers as unknown[]).entries()) {
      const cc = c as Record<string, unknown>;
      if (!isCounts(c) || typeof cc.caller !== 'string' || !Array.isArray(cc.perCycle)) return `pairs[${k}].callers[${j}] lacks caller, counts or perCycle`;
    }
  }
  return null;
}
