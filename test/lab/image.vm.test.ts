// The kernel image `lab setup` downloaded: extracting its vmlinux again gives the same ELF.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { spawnRunner } from '../../src/lab/command.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { extractVmlinux, findAll } from '../../src/lab/vmlinux.js';
import { useTempDir } from '../support/temp-dir.js';

const scratch = useTempDir('ab-lab-image-');

describe('the lab kernel image', () => {
  test('extracting the lab kernel image again gives the same ELF vmlinux', async () => {
    const kernel = findLabKernel();
    const bzImage = join(kernel.modulesDir, '../../../boot', `vmlinuz-${kernel.release}`);
    expect(findAll(readFileSync(bzImage), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])).length).toBeGreaterThan(0);
    const out = join(scratch, 'vmlinux');
    expect(await extractVmlinux(spawnRunner, bzImage, out)).toBe('xz');
    expect(readFileSync(out).equals(readFileSync(kernel.vmlinux))).toBe(true);
  });
});
