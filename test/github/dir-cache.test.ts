// The lab's Actions cache adapter (@actions/cache) against a cache service on 127.0.0.1 that
// speaks the routes @actions/cache uses on github.com: a real tar, a real upload and download.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { actionsDirCache } from '../../src/github/dir-cache.js';
import { startCacheServer, type CacheServer } from '../support/cache-server.js';
import { useTempDir } from '../support/temp-dir.js';

const work = useTempDir('ab-lab-cache-');
let server: CacheServer;
const saved: Record<string, string | undefined> = {};

function setEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

beforeAll(async () => {
  server = await startCacheServer(join(work, 'service'));
});

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    delete saved[k];
  }
});

afterAll(async () => {
  await server?.close();
});

function useServer(name: string) {
  const runnerTemp = join(work, name, 'runner-temp');
  const workspace = join(work, name, 'workspace');
  mkdirSync(runnerTemp, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  setEnv({ ...server.env, RUNNER_TEMP: runnerTemp, GITHUB_WORKSPACE: workspace, GITHUB_SERVER_URL: undefined, ACTIONS_CACHE_URL: undefined });
}

function fakeLab(dir: string, bigBytes = 0) {
  mkdirSync(join(dir, '9.9.0-99-amd64', 'image', 'lib'), { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), '{"version":1,"kernels":{}}\n');
  writeFileSync(join(dir, '9.9.0-99-amd64', 'initrd.cpio'), randomBytes(4096));
  if (bigBytes) writeFileSync(join(dir, '9.9.0-99-amd64', 'vmlinux'), randomBytes(bigBytes));
}

describe('the lab cache on the Actions cache service', () => {
  test('is not available without the service in the environment', () => {
    setEnv({ ACTIONS_CACHE_SERVICE_V2: 'true', ACTIONS_RESULTS_URL: undefined, ACTIONS_CACHE_URL: undefined });
    expect(actionsDirCache().available).toBe(false);
  });

  test('saves a lab directory, restores it after it is gone, and misses on another key', async () => {
    useServer('small');
    const lab = join(work, 'small', 'lab');
    fakeLab(lab);
    const before = readFileSync(join(lab, '9.9.0-99-amd64', 'initrd.cpio'));
    const cache = actionsDirCache();
    expect(cache.available).toBe(true);
    expect(await cache.restore(lab, 'alloc-balance-lab-v1-9.9.0-99-amd64-0000')).toBe(false);
    expect(await cache.save(lab, 'alloc-balance-lab-v1-9.9.0-99-amd64-0000')).toBe(true);
    expect(server.entries.filter((e) => e.finalized).map((e) => e.key)).toEqual(['alloc-balance-lab-v1-9.9.0-99-amd64-0000']);
    rmSync(lab, { recursive: true });

    expect(await cache.restore(lab, 'alloc-balance-lab-v1-9.9.0-99-amd64-0000')).toBe(true);
    expect(readFileSync(join(lab, '9.9.0-99-amd64', 'initrd.cpio')).equals(before)).toBe(true);
    expect(readFileSync(join(lab, 'manifest.json'), 'utf8')).toBe('{"version":1,"kernels":{}}\n');
    expect(await cache.restore(lab, 'alloc-balance-lab-v1-9.9.0-99-amd64-1111')).toBe(false);
    // A second save under a key that exists is refused by the service, not an error.
    expect(await cache.save(lab, 'alloc-balance-lab-v1-9.9.0-99-amd64-0000')).toBe(false);
    expect(server.unknown).toEqual([]);
  });

  test('an archive over 128 MiB goes up in blocks and comes back whole', async () => {
    useServer('big');
    const lab = join(work, 'big', 'lab');
    fakeLab(lab, 140 * 1024 * 1024);
    const before = readFileSync(join(lab, '9.9.0-99-amd64', 'vmlinux'));
    const cache = actionsDirCache();
    expect(await cache.save(lab, 'alloc-balance-lab-v1-big')).toBe(true);
    expect(server.requests).toContain('PUT /devstoreaccount1/cache/entry-1?comp=blocklist');
    rmSync(lab, { recursive: true });
    expect(await cache.restore(lab, 'alloc-balance-lab-v1-big')).toBe(true);
    expect(readFileSync(join(lab, '9.9.0-99-amd64', 'vmlinux')).equals(before)).toBe(true);
    expect(server.unknown).toEqual([]);
  }, 120_000);
});
