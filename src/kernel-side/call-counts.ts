// Calls of the module functions a PR changed: a kprobe event on each (`MOD:function`, which the
// kernel arms whenever the module comes, so it survives the error-path sweep's reloads), whose
// hits kprobe_profile counts. The events are filtered to record nothing: only the count matters.
import { addCountingProbe, type TraceSetup } from './trace-setup.js';
import type { Tracefs } from './tracefs.js';
import type { UndoLog } from './undo.js';

export interface CallProbes {
  /** Event name (without group) → function. */
  events: Map<string, string>;
  /** Functions the kernel refused a probe on, with why. */
  refused: string[];
}

export function setupCallProbes(tfs: Tracefs, setup: TraceSetup, module: string, functions: string[], undo: UndoLog): CallProbes {
  const events = new Map<string, string>();
  const refused: string[] = [];
  functions.forEach((fn, i) => {
    const event = `c${i}`;
    try {
      addCountingProbe(tfs, setup, event, `${module}:${fn}`, undo);
      events.set(event, fn);
    } catch (e) {
      refused.push(`${fn} (${(e as Error).message.split('\n')[0]})`);
    }
  });
  return { events, refused };
}

/** Pure: hits per function from kprobe_profile (`EVENT hits misses`, the group not printed). */
export function parseCallCounts(profile: string, events: Map<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fn of events.values()) out[fn] = 0;
  for (const line of profile.split('\n')) {
    const f = line.trim().split(/\s+/);
    const fn = f.length === 3 ? events.get(f[0]) : undefined;
    if (fn !== undefined && /^\d+$/.test(f[1])) out[fn] = Number(f[1]);
  }
  return out;
}

export function readCallCounts(tfs: Tracefs, probes: CallProbes): Record<string, number> {
  return parseCallCounts(tfs.exists('kprobe_profile') ? tfs.read('kprobe_profile') : '', probes.events);
}
