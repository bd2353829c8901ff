// A module's name as the kernel knows it (/sys/module, lsmod, `[module]` in a trace): a file name
// may write `-` where the kernel has `_`, and the `.ko` (with a compression suffix) is no part of it.
import { basename } from 'node:path';

export function moduleName(fileOrName: string): string {
  return basename(fileOrName.trim())
    .replace(/\.ko(\.[a-z]+)?$/, '')
    .replace(/-/g, '_');
}
