// Module build with real Kbuild against the lab kernel's headers, and what a built .ko tells.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildModule } from '../../src/module-build/build-module.js';
import { addr2line, moduleSymbols, readVermagic, vermagicMismatch, vermagicRelease } from '../../src/module-build/module-info.js';
import { findLabKernel, type LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { writeKniLikeModule } from '../support/kni-like-variants.js';
import { useTempDir } from '../support/temp-dir.js';

let kernel: LabManifestEntry;
const work = useTempDir('ab-build-test-');

beforeAll(() => {
  kernel = findLabKernel();
});

describe('buildModule', () => {
  test('builds the leaky kni_like with the default Kbuild command; the .ko fits the lab kernel and symbolizes', async () => {
    const dir = join(work, 'leaky');
    writeKniLikeModule(dir, 'leaky');
    const r = await buildModule({ moduleDir: dir, kernelBuildDir: kernel.buildDir });
    expect(r.reason).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.modules).toEqual([{ name: 'kni_like', path: join(dir, 'kni_like.ko') }]);
    expect(r.log).toContain('kni_like.ko');
    expect(r.seconds).toBeGreaterThan(0);
    console.log(`kni_like build: ${r.seconds.toFixed(1)} s`);

    const vermagic = await readVermagic(r.modules[0].path);
    expect(vermagicRelease(vermagic)).toBe(kernel.release);
    expect(vermagicMismatch(r.modules[0].path, vermagic, kernel.release)).toBeNull();
    const mismatch = vermagicMismatch(r.modules[0].path, vermagic, '6.12.0-1-amd64');
    expect(mismatch).toContain(`built for kernel ${kernel.release} but the target kernel is 6.12.0-1-amd64`);
    expect(mismatch).toContain('linux-headers-6.12.0-1-amd64');

    const nm = await moduleSymbols(r.modules[0].path);
    expect(nm).toMatch(/^igb_like_probe\s*\|[0-9a-f]+\|\s+t\s+\|\s+FUNC\|[0-9a-f]+\|\s*\|\.text$/m);
    const map = new ModuleMap('kni_like', nm, { '.text': '0xffffffffc0232000' });
    const probe = nm.split('\n').find((l) => l.startsWith('igb_like_probe'))!;
    const probeStart = BigInt(`0x${probe.split('|')[1]}`);
    const resolved = map.resolve(`0x${(0xffffffffc0232000n + probeStart + 0x10n).toString(16)}`);
    expect(resolved).toEqual({ caller: 'igb_like_probe+0x10', inModule: true });

    const [line] = await addr2line(r.modules[0].path, '.text', [Number(probeStart) + 0x10]);
    expect(line.function).toBe('igb_like_probe');
    expect(line.location).toMatch(new RegExp(`^${dir}/kni_like\\.c:\\d+$`));
  });

  test('the fixed variant builds too, with the functions the trace names', async () => {
    const fixed = join(work, 'fixed');
    writeKniLikeModule(fixed, 'fixed');
    const r = await buildModule({ moduleDir: fixed, kernelBuildDir: kernel.buildDir, buildCommand: 'make -C "$KDIR" M="$PWD" modules' });
    expect(r.ok).toBe(true);
    const nm = await moduleSymbols(r.modules[0].path);
    for (const fn of ['kni_like_ioctl_create', 'igb_like_probe', 'kni_like_release']) {
      expect(nm).toMatch(new RegExp(`^${fn}\\s*\\|`, 'm'));
    }
    // gcc specializes it (`.constprop.0`), as it made rte_kni's kni_dev_remove `.isra.0`.
    expect(nm).toMatch(/^kni_like_dev_remove(\.(constprop|isra)\.\d+)?\s*\|/m);
  });

  test('a compile error fails the build with the compiler error first in the excerpt', async () => {
    const dir = join(work, 'broken');
    writeKniLikeModule(dir, 'broken');
    // A long tail of noise after the error: the excerpt must still lead with the error.
    writeFileSync(join(dir, 'noise.sh'), 'i=0; while [ $i -lt 80 ]; do echo "noise line $i"; i=$((i+1)); done\n');
    const r = await buildModule({
      moduleDir: dir,
      kernelBuildDir: kernel.buildDir,
      buildCommand: 'make -C "$KDIR" M="$PWD" modules; rc=$?; sh noise.sh; exit $rc',
    });
    expect(r.ok).toBe(false);
    expect(r.modules).toEqual([]);
    expect(r.reason).toMatch(/^build command failed \(exit 2\)/);
    const lines = r.excerpt.split('\n');
    expect(lines[0]).toMatch(/kni_like\.c:\d+:\d+: error: 'undeclared_thing' undeclared/);
    expect(lines.length).toBeLessThanOrEqual(41);
    expect(lines.at(-1)).toBe('noise line 79');
  });

  test('a command that builds nothing, a missing directory and missing headers are refused clearly', async () => {
    const empty = join(work, 'empty');
    writeKniLikeModule(empty, 'fixed');
    const nothing = await buildModule({ moduleDir: empty, kernelBuildDir: kernel.buildDir, buildCommand: 'true' });
    expect(nothing.ok).toBe(false);
    expect(nothing.reason).toContain('built no .ko file');
    const missing = await buildModule({ moduleDir: join(work, 'nope'), kernelBuildDir: kernel.buildDir });
    expect(missing).toMatchObject({ ok: false, reason: `module directory ${join(work, 'nope')} does not exist` });
    const noHeaders = await buildModule({ moduleDir: empty, kernelBuildDir: join(work, 'no-headers') });
    expect(noHeaders.ok).toBe(false);
    expect(noHeaders.reason).toContain('install the kernel headers');
  });

  test('readVermagic refuses a file that is not a module', async () => {
    const f = join(work, 'not-a-module.ko');
    writeFileSync(f, 'hello');
    await expect(readVermagic(f)).rejects.toThrow(/modinfo .*not-a-module\.ko failed/);
  });
});
