// The kernel image `lab setup` downloaded: extracting its vmlinux again gives the same ELF.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { spawnRunner } from '../../src/lab/command.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { extractVmlinux, findAll } from '../../src/lab/vmlinux.js';

const scratch = mkdtempSync(join(tmpdir(), 'ab-lab-image-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

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
