// The base side's result in the Actions cache: restored before the base would run (a hit: only the
// PR side runs), saved after a base that ran cleanly. The entry is the SideRun as the report needs
// it (status, analysis, timings) and where it came from; raw files stay with the run that made them.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CachedSideOrigin, SideRun } from '../core/model.js';
import type { DirCache } from '../github/dir-cache.js';
import { BASE_CACHE_FORMAT } from './base-cache-key.js';

const SIDE_FILE = 'side.json';

interface Entry {
  format: number;
  key: string;
  origin: CachedSideOrigin;
  side: SideRun;
}

/** Why this base must not be reused, or null when it may: only a clean, complete measurement is. */
export function whyNotCacheable(run: SideRun): string | null {
  if (run.status !== 'ok') return `the base did not run cleanly (${run.status}): it is measured again on the next run`;
  if (!run.analysis) return 'the base has no analysis: it is measured again on the next run';
  if (!run.analysis.complete) return 'the base trace is incomplete (lost events): an inconclusive base is measured again on the next run';
  return null;
}

export class BaseCaching {
  private restored = false;

  /**
   * `dir`: the folder the entry is packed from and restored into; the same path on every run
   * (the Actions cache's version covers the paths).
   */
  constructor(
    private readonly cache: DirCache,
    readonly key: string,
    private readonly dir: string,
    private readonly thisRun: { runId: string; runUrl: string | null },
    private readonly log: (line: string) => void,
  ) {}

  /** The cached base for this key, or null (no entry, no service, or an entry that is not this key's). */
  async restore(current: Pick<SideRun, 'ref' | 'sha'>): Promise<SideRun | null> {
    if (!this.cache.available) {
      this.log('base cache: the Actions cache is not available here; the base side runs');
      return null;
    }
    rmSync(this.dir, { recursive: true, force: true });
    let entry: Entry | null = null;
    try {
      if (await this.cache.restore(this.dir, this.key)) entry = JSON.parse(readFileSync(join(this.dir, SIDE_FILE), 'utf8')) as Entry;
    } catch {
      entry = null;
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
    if (!entry) {
      this.log(`base cache: no entry ${this.key}; the base side runs`);
      return null;
    }
    // The key covers these; an entry that disagrees is not used whatever its key says.
    if (
      entry.format !== BASE_CACHE_FORMAT ||
      entry.key !== this.key ||
      entry.side?.sha !== current.sha ||
      entry.side.side !== 'base' ||
      whyNotCacheable(entry.side)
    ) {
      this.log(`base cache: the entry ${this.key} does not hold this base's clean result; the base side runs`);
      return null;
    }
    this.restored = true;
    const from = entry.origin.runUrl ?? (entry.origin.runId ? `run ${entry.origin.runId}` : 'an earlier run');
    this.log(`base cache: restored ${this.key}, measured by ${from} on ${entry.origin.savedAt}; only the PR side runs`);
    return { ...entry.side, ref: current.ref, cached: entry.origin };
  }

  /** Saves a base this run measured, when it ran cleanly; says why not otherwise. */
  async save(run: SideRun): Promise<void> {
    if (this.restored || !this.cache.available) return;
    const why = whyNotCacheable(run);
    if (why) {
      this.log(`base cache: not saved: ${why}`);
      return;
    }
    const { artifacts: _files, cached: _from, ...side } = run;
    const origin: CachedSideOrigin = { key: this.key, runId: this.thisRun.runId, runUrl: this.thisRun.runUrl, savedAt: new Date().toISOString() };
    const entry: Entry = { format: BASE_CACHE_FORMAT, key: this.key, origin, side };
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, SIDE_FILE), `${JSON.stringify(entry)}\n`);
    try {
      this.log((await this.cache.save(this.dir, this.key)) ? `base cache: saved ${this.key}` : `base cache: ${this.key} not saved (the service refused it)`);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** The action's version and its bundled command line's content: an analysis by other code never matches. */
export function actionFingerprint(version: string, cliFile: string): string {
  const bundle = existsSync(cliFile) ? createHash('sha256').update(readFileSync(cliFile)).digest('hex').slice(0, 16) : 'no-bundle';
  return `${version}+${bundle}`;
}

/** Digest of folders' contents (names, link targets, file bytes), not their times: a program rebuilt the same hashes the same. */
export function foldersDigest(folders: string[]): string {
  const hash = createHash('sha256');
  const walk = (root: string, dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) hash.update(`L ${rel} ${readlinkSync(path)}\n`);
      else if (st.isDirectory()) {
        hash.update(`D ${rel}\n`);
        walk(root, path);
      } else if (st.isFile()) {
        hash.update(`F ${rel} ${st.size} ${st.mode & 0o111 ? 'x' : '-'}\n`);
        hash.update(readFileSync(path));
      }
    }
  };
  for (const folder of folders) {
    hash.update(`R ${folder}\n`);
    if (existsSync(folder) && lstatSync(folder).isDirectory()) walk(folder, folder);
    else hash.update('missing\n');
  }
  return folders.length === 0 ? '' : hash.digest('hex').slice(0, 24);
}
