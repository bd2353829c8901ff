// Real DPDK for the tests: Debian 12's dpdk source package (upstream 22.11.x), unpacked once by
// scripts/debian-dpdk.sh (which enables deb-src when apt has none).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/debian-dpdk.sh');

/** The unpacked tree's directory; throws (never skips) when it cannot be had. */
export function debianDpdkTree(): string {
  let dir: string;
  try {
    dir = execFileSync('bash', [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`Debian's dpdk source could not be had (bash scripts/debian-dpdk.sh): ${err.stderr || err.message}`);
  }
  if (!existsSync(join(dir, 'kernel/linux/kni/kni_misc.c'))) throw new Error(`${dir} is not a DPDK tree with KNI`);
  return dir;
}
