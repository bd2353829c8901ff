// The Actions cache as the lab uses it: one directory under one key.
import * as cache from '@actions/cache';

export interface LabCache {
  /** False where no cache service is reachable (local runs, tests without one). */
  readonly available: boolean;
  /** True when the entry `key` was restored into `dir`. */
  restore(dir: string, key: string): Promise<boolean>;
  /** True when the entry was stored (false: the service refused or failed, already warned). */
  save(dir: string, key: string): Promise<boolean>;
}

/** @actions/cache; it warns about service errors itself and treats them as a miss. */
export function actionsLabCache(): LabCache {
  return {
    available: cache.isFeatureAvailable(),
    async restore(dir, key) {
      return (await cache.restoreCache([dir], key)) === key;
    },
    async save(dir, key) {
      return (await cache.saveCache([dir], key)) !== -1;
    },
  };
}
