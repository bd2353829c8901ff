// What one side's run needs, derived once from the settings (and a preset's preparation of that
// side) at the edge: the layers below take the plan, never the action's whole settings.
import type { PairSpec } from '../core/model.js';
import type { BuildSpec } from '../module-build/build-spec.js';
import type { TargetBackground } from '../kernel-side/job.js';
import type { Settings } from '../settings/settings.js';
import type { Workload } from '../inputs/workload.js';
import type { SidePreparation } from '../presets/side-preparation.js';

export interface SidePlan {
  build: BuildSpec;
  workload: Workload;
  cycles: number;
  /** The pairs to trace, or `auto`: those of the allocator families the built module imports. */
  track: PairSpec[] | 'auto';
  traceBufferKb: number;
  stacks: boolean;
  /** For the whole kernel-side run: load, every cycle, unload. */
  timeoutSeconds: number;
  hugepages?: number;
  nics?: SidePreparation['nics'];
  background?: TargetBackground;
  /** Folders outside the tree the workload needs on the target (a preset's cached program). */
  guestFolders?: string[];
  /** The error-path sweep after the cycles (absent: off). */
  errorPaths?: 'auto' | 'all' | 'off';
}

/** The tracing every run of this job shares (the sides and the canary). */
export type TracingPlan = Pick<SidePlan, 'traceBufferKb' | 'stacks' | 'timeoutSeconds'>;

export function tracingPlan(settings: Settings): TracingPlan {
  return { traceBufferKb: settings.traceBufferKb, stacks: settings.stacks, timeoutSeconds: settings.timeoutMinutes * 60 };
}

/** One side's plan: the settings as given, or what a preset prepared for that side's tree. */
export function sidePlan(settings: Settings, prepared?: SidePreparation): SidePlan {
  const build: BuildSpec = prepared
    ? prepared.build
    : { moduleDir: settings.moduleDir, buildCommand: settings.buildCommand, moduleArgs: settings.moduleArgs, moduleName: settings.moduleName || undefined };
  return {
    build,
    workload: prepared ? prepared.workload : settings.workload,
    cycles: settings.cycles,
    track: settings.track,
    errorPaths: settings.errorPaths,
    ...tracingPlan(settings),
    ...(prepared?.hugepages !== undefined ? { hugepages: prepared.hugepages } : {}),
    ...(prepared?.nics ? { nics: prepared.nics } : {}),
    ...(prepared ? { guestFolders: [prepared.userspace.dir] } : {}),
  };
}
