// The Actions cache key of a prepared lab: what the set-up would produce, so that a key names
// exactly one lab content.
import type { LabManifest } from './lab-kernel.js';

/** The lab directory's layout: the manifest format it is read with. */
export const LAB_FORMAT: LabManifest['version'] = 1;
/** What a lab holds for a release: 2, the headers extracted from Debian's archive into the lab (1 used the runner's installed headers). */
const LAB_LAYOUT = 2;

/** `release`: the kernel the set-up prepares; `fingerprint`: initFingerprint() of the /init the initramfs holds. */
export function labCacheKey(release: string, fingerprint: string): string {
  return `alloc-balance-lab-v${LAB_FORMAT}.${LAB_LAYOUT}-${release}-${fingerprint}`;
}
