// A preset turns a short configuration (a DPDK tree and a port mask) into what each side needs.
import type { Settings } from '../settings/settings.js';
import type { BuildSpec } from './side.js';

export interface PresetExpansion {
  /** Settings with the preset's workload, pairs and module arguments filled in. */
  settings: Settings;
  build(treeDir: string): BuildSpec;
  job(treeDir: string): { hugepages?: number; readyCommand?: string };
}

export function expandPreset(settings: Settings): PresetExpansion | null {
  if (settings.preset === 'none') return null;
  return null;
}
