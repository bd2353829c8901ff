// The DPDK user-space build in the Actions cache, against a cache service on 127.0.0.1 that speaks
// the routes @actions/cache uses: built on one run and saved, restored on the next, never saved twice.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { actionsDirCache } from '../../src/github/dir-cache.js';
import { UserspaceCaching } from '../../src/presets/userspace-caching.js';
import { useCacheService } from '../support/cache-server.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-userspace-cache-');
useCacheService(work);

const build = (root: string) => {
  const key = 'alloc-balance-dpdk-testpmd-22.11.11-0123456789abcdef0123456789abcdef';
  const dir = join(root, key);
  return { key, dir, program: join(dir, 'bin', 'dpdk-testpmd') };
};

describe('UserspaceCaching', () => {
  test('a run that builds saves once; the next run on a fresh machine restores instead of building', async () => {
    const lines: string[] = [];
    const first = build(join(work, 'machine-1'));
    const run1 = new UserspaceCaching(actionsDirCache(), (l) => lines.push(l));
    await run1.restore(first);
    expect(lines.pop()).toBe(`no DPDK user-space build in the Actions cache for ${first.key}: it is built now`);
    // The base side builds the program; the PR side finds it and nothing is saved twice.
    mkdirSync(join(first.dir, 'bin'), { recursive: true });
    writeFileSync(first.program, '#!/bin/sh\necho testpmd\n');
    await run1.saveBuilt(first);
    expect(lines.pop()).toBe(`saved the DPDK user-space build in the Actions cache (${first.key})`);
    await run1.restore(first);
    await run1.saveBuilt(first);
    expect(lines).toEqual([]);

    const run2 = new UserspaceCaching(actionsDirCache(), (l) => lines.push(l));
    // A fresh runner: the cache path is the same there, and empty.
    rmSync(first.dir, { recursive: true });
    await run2.restore(first);
    expect(lines.pop()).toBe(`restored the DPDK user-space build from the Actions cache (${first.key})`);
    expect(readFileSync(first.program, 'utf8')).toBe('#!/bin/sh\necho testpmd\n');
    await run2.saveBuilt(first);
    expect(lines).toEqual([]);
  });

  test('without the cache service: one line, the local cache only', async () => {
    const lines: string[] = [];
    const caching = new UserspaceCaching({ available: false, restore: async () => false, save: async () => false }, (l) => lines.push(l));
    const b = build(join(work, 'machine-3'));
    await caching.restore(b);
    await caching.restore({ ...b, key: `${b.key}-other`, dir: `${b.dir}-other` });
    expect(lines).toEqual(['Actions cache not available here: the DPDK user-space build is kept in the local cache only']);
  });
});
