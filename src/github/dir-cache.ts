// The Actions cache as alloc-balance uses it: one directory under one key (the VM lab, the DPDK build).
import * as cache from '@actions/cache';

export interface DirCache {
  /** False where no cache service is reachable (local runs, tests without one). */
  readonly available: boolean;
  /** True when the entry `key` was restored into `dir`. */
  restore(dir: string, key: string): Promise<boolean>;
  /** True when the entry was stored (false: the service refused or failed, already warned). */
  save(dir: string, key: string): Promise<boolean>;
}

/** @actions/cache; it warns about service errors itself and treats them as a miss. */
export function actionsDirCache(): DirCache {
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
