// Programs are started in src/process/ (run, stream, tail, as root, a group stopped with grace, a
// short probe run synchronously):
// a module that starts one itself fails here, unless it is one of the few below with its reason.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tsFiles } from '../support/source-files.js';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** Modules that may use node:child_process besides src/process/, and why. */
const OWN_CHILD_PROCESSES: Record<string, string> = {
  'lab/run-in-guest.ts': 'QEMU: its console is watched line by line while the guest runs',
};

describe('starting a program', () => {
  test('happens in src/process/ or in a module named here with its reason', () => {
    const starters = tsFiles(SRC)
      .filter((file) => /from 'node:child_process'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file))
      .filter((file) => !file.startsWith('process/'))
      .sort();
    expect(starters, 'run programs through src/process/run.ts (runCommand), group.ts (startShellGroup) or run-sync.ts (runSync)').toEqual(
      Object.keys(OWN_CHILD_PROCESSES).sort(),
    );
  });
});
