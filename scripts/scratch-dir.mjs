// A script's work folder under the system's temp folder: removed when the script ends, however it
// ends (done, an error, process.exit, or SIGINT/SIGTERM/SIGHUP, after which the signal is raised
// again so the exit status says so); kept with `keep`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function scratchDir(prefix, keep = false) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (keep) return dir;
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', remove);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      remove();
      process.kill(process.pid, signal);
    });
  }
  return dir;
}
