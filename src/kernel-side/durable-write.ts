// Files the host must find even if the kernel dies right after: written and flushed to the out
// share before the next step (the error-path sweep may crash the guest at any of its sites).
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

export function writeDurably(file: string, text: string): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a file already written (the trace, streamed). */
export function flushFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
