// Hugepages for a workload that needs them (DPDK): the reservation and a hugetlbfs mount of
// 2 MiB pages, each recorded in the undo log before it is made.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { runCommand } from '../process/run.js';
import type { UndoLog } from './undo.js';

const NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages';
const MOUNT_ROOT = '/run/alloc-balance';

export class HugepageError extends Error {}

/** Mount points of hugetlbfs with 2 MiB pages, from /proc/mounts text. */
export function hugetlbfsMounts(procMounts: string): string[] {
  const found: string[] = [];
  for (const line of procMounts.split('\n')) {
    const [, dir, type, options] = line.split(' ');
    if (type !== 'hugetlbfs') continue;
    const size = /(?:^|,)pagesize=([^,]+)/.exec(options ?? '')?.[1] ?? '2M';
    if (size === '2M' || size === '2048k') found.push(dir.replace(/\\040/g, ' '));
  }
  return found;
}

function reserve(pages: number, undo: UndoLog): string {
  const before = readFileSync(NR_HUGEPAGES, 'utf8').trim();
  // Never lower a reservation made at boot: other DPDK users of the machine may hold those pages.
  if (Number(before) >= pages) return `${before} hugepages already reserved (the run needs ${pages}): left as they are`;
  undo.push({ kind: 'restore-file', path: NR_HUGEPAGES, value: before });
  writeFileSync(NR_HUGEPAGES, String(pages));
  const got = Number(readFileSync(NR_HUGEPAGES, 'utf8').trim());
  if (got < pages) throw new HugepageError(`hugepages: asked for ${pages} pages of 2 MiB, the kernel reserved ${got} (not enough free memory)`);
  return `reserved ${got} hugepages for the run (${before} before; restored after)`;
}

async function mountHugetlbfs(runId: string, undo: UndoLog): Promise<string> {
  const existing = hugetlbfsMounts(readFileSync('/proc/mounts', 'utf8'));
  if (existing.length) return `hugetlbfs (2 MiB pages) already mounted at ${existing[0]}: used as it is`;
  const dir = `${MOUNT_ROOT}/hugepages-${runId}`;
  if (!existsSync(dir)) {
    undo.push({ kind: 'rmdir', path: dir });
    mkdirSync(dir, { recursive: true });
  }
  undo.push({ kind: 'umount', path: dir });
  const r = await runCommand('mount', ['-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev', dir]);
  if (r.code !== 0) throw new HugepageError(`hugetlbfs: mount on ${dir} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  return `mounted hugetlbfs (2 MiB pages) at ${dir} for the run (unmounted after)`;
}

/** Reserves `pages` 2 MiB pages and makes sure a hugetlbfs of that size is mounted. */
export async function prepareHugepages(pages: number, runId: string, undo: UndoLog): Promise<string[]> {
  const notes = [reserve(pages, undo)];
  if (pages > 0) notes.push(await mountHugetlbfs(runId, undo));
  return notes;
}
