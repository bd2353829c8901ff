// The DPDK user-space build is the slow part and rarely changes between base and PR: it is
// cached under a key computed from the files it is built from (never kernel/, so a module
// patch keeps the cache). The directory suits actions/cache (`path` + `key`) and local runs.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DpdkTree } from './dpdk-tree.js';
import type { KniApp } from './userspace-build.js';

export interface UserspaceCache {
  /** The actions/cache key, e.g. `alloc-balance-dpdk-kni-example-22.07.0-3f2a...`. */
  key: string;
  /** Directory of this key's build (under the cache root). */
  dir: string;
}

/** What the user-space build reads: the tree minus kernel/, docs and unrelated apps. */
function hashedPaths(app: KniApp): string[] {
  const common = ['VERSION', 'meson.build', 'meson_options.txt', 'config', 'buildtools', 'lib', 'drivers', 'mk', 'usertools'];
  return app === 'kni-example' ? [...common, 'examples/kni', 'examples/meson.build'] : [...common, 'app/test-pmd', 'app/meson.build'];
}

const SKIP = new Set(['.git', 'build', '__pycache__']);
const CHUNK = 1 << 16;

function hashFile(hash: ReturnType<typeof createHash>, path: string, buf: Buffer): void {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** sha256 over the relative path and content of every file under `paths` (sorted; streamed). */
function hashTreeFiles(root: string, paths: readonly string[]): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(CHUNK);
  const visit = (rel: string): void => {
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        hash.update(`F ${rel}\0`);
        hashFile(hash, join(root, rel), buf);
        hash.update('\0');
      }
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (SKIP.has(e.name)) continue;
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) visit(child);
      else if (e.isFile()) {
        hash.update(`F ${child}\0`);
        hashFile(hash, join(root, child), buf);
        hash.update('\0');
      } else if (e.isSymbolicLink()) hash.update(`L ${child}\0`);
    }
  };
  for (const p of [...paths].sort()) visit(p);
  return hash.digest('hex');
}

/** Default cache root: $ALLOC_BALANCE_CACHE, else $XDG_CACHE_HOME/alloc-balance/dpdk, else ~/.cache/alloc-balance/dpdk. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ALLOC_BALANCE_CACHE) return join(env.ALLOC_BALANCE_CACHE, 'dpdk');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'alloc-balance', 'dpdk');
}

/**
 * The cache entry of a tree's user-space build. `buildOptions` are the choices that change the
 * result (build system, drivers): they are part of the key.
 */
export function userspaceCache(tree: DpdkTree, app: KniApp, buildOptions: readonly string[], root = defaultCacheRoot()): UserspaceCache {
  const files = hashTreeFiles(tree.root, hashedPaths(app));
  const digest = createHash('sha256')
    .update(files)
    .update(`\0${buildOptions.join('\0')}\0${process.arch}`)
    .digest('hex')
    .slice(0, 32);
  const version = tree.version ? tree.version.text.replace(/[^A-Za-z0-9.]/g, '_') : 'unknown';
  const key = `alloc-balance-dpdk-${app}-${version}-${digest}`;
  return { key, dir: join(root, key) };
}
