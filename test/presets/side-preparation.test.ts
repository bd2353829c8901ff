// The preset's sides: what each side builds, from that side's tree.
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandPreset } from '../../src/presets/side-preparation.js';
import { parseSettings } from '../../src/settings/settings.js';
import { useTempDir } from '../support/temp-dir.js';

const TREE = resolve(import.meta.dirname, '../fixtures/dpdk-tree');
const work = useTempDir('ab-side-preparation-');
const everything = { program: () => true, pythonModule: () => true, header: () => true };

describe('expandPreset', () => {
  it('gives the sides one attempt at a user-space build they share, and each its own module build', () => {
    const settings = parseSettings((name) => ({ preset: 'dpdk-kni', 'dpdk-portmask': '0x3', target: 'vm' })[name] ?? '');
    const preset = expandPreset(settings, '/lib/modules/x/build', everything);
    for (const side of ['base', 'pr']) cpSync(TREE, join(work, side), { recursive: true });
    const base = preset!.prepare(join(work, 'base'), 'base', join(work, 'out'));
    const pr = preset!.prepare(join(work, 'pr'), 'pr', join(work, 'out'));
    expect(pr.userspace.key).toBe(base.userspace.key);
    const [baseUser, baseModule] = [base.build.plans![0], base.build.plans!.at(-1)!];
    const [prUser, prModule] = [pr.build.plans![0], pr.build.plans!.at(-1)!];
    expect(baseUser.attempt).toBeDefined();
    expect(prUser.attempt).toBe(baseUser.attempt);
    expect(baseModule.attempt).toBeUndefined();
    expect(prModule.plan.output).not.toBe(baseModule.plan.output);
  });
});
