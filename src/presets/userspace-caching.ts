// A preset's user-space build (minutes of DPDK meson) in the Actions cache: restored before a side
// builds, saved once after a side built it. Without the service the local cache dir does the job.
import { existsSync } from 'node:fs';
import type { DirCache } from '../github/dir-cache.js';
import type { UserspaceCache } from './userspace-cache-key.js';

/** A cache entry and the program its build makes there: present, the build is cached. */
export type CachedBuild = UserspaceCache & { program: string };

export class UserspaceCaching {
  /** Keys whose build is in the cache already (found here, restored, or saved by this run): never saved again. */
  private readonly cachedKeys = new Set<string>();
  /** Keys restore() already looked up (each side asks; one look-up a key). */
  private readonly lookedUpKeys = new Set<string>();
  /** The line saying there is no Actions cache here was logged (once a run). */
  private toldNoService = false;

  constructor(
    private readonly cache: DirCache | undefined,
    private readonly log: (line: string) => void,
  ) {}

  async restore(b: CachedBuild): Promise<void> {
    if (this.lookedUpKeys.has(b.key)) return;
    this.lookedUpKeys.add(b.key);
    if (existsSync(b.program)) {
      this.cachedKeys.add(b.key);
      return;
    }
    if (!this.cache?.available) {
      if (!this.toldNoService) this.log('Actions cache not available here: the DPDK user-space build is kept in the local cache only');
      this.toldNoService = true;
      return;
    }
    if ((await this.cache.restore(b.dir, b.key)) && existsSync(b.program)) {
      this.cachedKeys.add(b.key);
      this.log(`restored the DPDK user-space build from the Actions cache (${b.key})`);
    } else this.log(`no DPDK user-space build in the Actions cache for ${b.key}: it is built now`);
  }

  async saveBuilt(b: CachedBuild): Promise<void> {
    if (this.cachedKeys.has(b.key) || !existsSync(b.program)) return;
    this.cachedKeys.add(b.key);
    if (!this.cache?.available) return;
    if (await this.cache.save(b.dir, b.key)) this.log(`saved the DPDK user-space build in the Actions cache (${b.key})`);
  }
}
