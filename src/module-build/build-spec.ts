// What a side builds, as the run plans it (the inputs, or a preset's preparation of that side).
import type { PlannedBuild } from './build-module.js';

/** What a side needs to build: the module dir in the tree, its build command and environment. */
export interface BuildSpec {
  moduleDir: string;
  buildCommand: string;
  env?: Record<string, string>;
  /** Name of the module to load when the build makes several. */
  moduleName?: string;
  moduleArgs: string;
  /** The .ko the build command produces outside moduleDir (a preset's build directory). */
  output?: string;
  /** A preset's build as plans, instead of buildCommand. */
  plans?: PlannedBuild[];
  /** Folders outside the tree the build writes (a preset's build and cache folders); the tree itself always is. */
  writable?: string[];
}
