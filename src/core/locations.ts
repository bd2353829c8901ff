// Filling `location` (file:line) of call sites and outstanding objects once the I/O edge has
// looked the module-relative offsets up in the module's debug info.
import type { AnalysisResult } from './model.js';

/** Callers of an analysis that may be in the module (what is worth looking up). */
export function moduleCallers(result: AnalysisResult): string[] {
  const out = new Set<string>();
  for (const p of result.pairs) {
    for (const c of p.callers) if (c.inModule !== false) out.add(c.caller);
    for (const o of p.objects) {
      if (o.inModule !== false) out.add(o.caller);
    }
    for (const b of p.badFrees ?? []) out.add(b.caller);
  }
  return [...out];
}

/** Sets `location` on callers, objects and bad frees whose caller has one in `locations`. */
export function applyLocations(result: AnalysisResult, locations: ReadonlyMap<string, string>): void {
  for (const p of result.pairs) {
    for (const c of p.callers) {
      const loc = locations.get(c.caller);
      if (loc) c.location = loc;
    }
    for (const o of [...p.objects, ...(p.badFrees ?? [])]) {
      const loc = locations.get(o.caller);
      if (loc) o.location = loc;
    }
  }
}
