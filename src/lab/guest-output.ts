// The guest writes the job's outDir over 9p, and the guest runs the PR's module and workload as
// root: it can leave a symbolic link where the host expects a file (`dmesg.txt -> /root/.ssh/id_rsa`),
// a device or FIFO that blocks a reader, or a set-user-ID program owned by the user running QEMU.
// Once the VM is gone, and before anything on the host reads the folder, only plain files and
// folders without set-ID bits are left.
import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const SET_ID_BITS = 0o6000;

/** Removes links and special files below `dir`, clears set-ID bits; returns what it changed (paths relative to dir). */
export function scrubGuestOutput(dir: string, rel = ''): string[] {
  const changed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(join(dir, rel));
  } catch {
    return changed;
  }
  for (const name of names) {
    const path = join(rel, name);
    const full = join(dir, path);
    const st = lstatSync(full);
    if (st.isDirectory()) {
      if (st.mode & SET_ID_BITS) {
        chmodSync(full, st.mode & 0o777);
        changed.push(`${path}/ (set-ID bits)`);
      }
      changed.push(...scrubGuestOutput(dir, path));
    } else if (st.isFile()) {
      if (st.mode & SET_ID_BITS) {
        chmodSync(full, st.mode & 0o777);
        changed.push(`${path} (set-ID bits)`);
      }
    } else {
      rmSync(full, { force: true });
      changed.push(`${path} (${st.isSymbolicLink() ? 'link' : 'special file'})`);
    }
  }
  return changed;
}
