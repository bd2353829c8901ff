// The Actions cache key of a base side's result: everything that decides what the base measures,
// so that an entry is only ever reused for the same measurement by the same analysis.
import { createHash } from 'node:crypto';
import { pairName } from '../core/pair-spec.js';
import type { Settings } from '../settings/settings.js';

/** The entry's layout (side.json, origin.json): bumped when it changes. */
export const BASE_CACHE_FORMAT = 1;

export interface BaseCacheKeyInput {
  /** The base commit (full SHA): the tree built. */
  baseSha: string;
  /** The target kernel's release (`uname -r` of the VM or of this machine). */
  kernel: string;
  /** actionFingerprint(): the version and the bundle that built, ran and analyzed the side. */
  actionVersion: string;
  /** Digest of the vm-folders' contents (a workload built outside the tree), '' without any. */
  foldersDigest: string;
  /** target: host: the runner's name (its devices are part of the measurement); '' for a VM, the same on every runner. */
  machine: string;
}

/**
 * The settings a base side's measurement depends on. Not here: what only judges (fail-on,
 * inconclusive), what only publishes (token, check name), the time limit (a clean run is the same
 * run under any limit) and the canary (not part of a side).
 */
function measurementSettings(settings: Settings): Record<string, unknown> {
  return {
    target: settings.target,
    preset: settings.preset,
    dpdk: settings.dpdk,
    moduleDir: settings.moduleDir,
    moduleName: settings.moduleName,
    buildCommand: settings.buildCommand,
    moduleArgs: settings.moduleArgs,
    workload: settings.workload,
    cycles: settings.cycles,
    track: settings.track === 'auto' ? 'auto' : settings.track.map(pairName),
    traceBufferKb: settings.traceBufferKb,
    stacks: settings.stacks,
    errorPaths: settings.errorPaths,
    vm: settings.target === 'vm' ? { memoryMb: settings.vm.memoryMb, cpus: settings.vm.cpus, folders: settings.vm.folders, nics: settings.vm.nics } : null,
  };
}

/** `alloc-balance-base-v1-<kernel>-<base sha 12>-<digest of the rest>`: readable where it matters, exact by the digest. */
export function baseCacheKey(settings: Settings, input: BaseCacheKeyInput): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ ...input, settings: measurementSettings(settings) }))
    .digest('hex')
    .slice(0, 24);
  return `alloc-balance-base-v${BASE_CACHE_FORMAT}-${input.kernel}-${input.baseSha.slice(0, 12)}-${digest}`;
}
