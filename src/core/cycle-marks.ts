// The workload cycles as the trace's markers delimit them: which cycle an event belongs to, and
// markers that came without their partner.
import type { Marker } from './trace-protocol.js';

export class CycleMarks {
  /** The cycle events now belong to; 0 before the first start marker (the load). */
  cycle = 0;
  starts = 0;
  missingEnds = 0;
  strayEnds = 0;
  private inCycle = false;

  get marked(): boolean {
    return this.starts > 0;
  }

  /** Applies a cycle marker; `snapshot(n)` records the counts as cycle n ends. */
  mark(m: Extract<Marker, { edge: string }>, snapshot: (cycle: number) => void): void {
    if (m.edge === 'start') {
      if (this.inCycle) {
        this.missingEnds++;
        snapshot(this.cycle);
      } else if (this.cycle === 0) snapshot(0);
      this.cycle++;
      this.starts++;
      this.inCycle = true;
    } else if (this.inCycle) {
      snapshot(this.cycle);
      this.inCycle = false;
    } else this.strayEnds++;
  }

  /** The end of the trace: a cycle still open ends here (without its marker). */
  finish(snapshot: (cycle: number) => void): void {
    if (this.inCycle) {
      this.missingEnds++;
      snapshot(this.cycle);
      this.inCycle = false;
    }
    if (!this.marked) snapshot(0);
  }
}
