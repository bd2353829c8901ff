// `lab plan` (the release a set-up would prepare, after installing the packages) and a set-up
// through sudo handing the lab to the calling user: setupLab/planLab over a recorded apt.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { CommandRunner } from '../../src/lab/command.js';
import { initFingerprint } from '../../src/lab/guest-scripts.js';
import type { Platform } from '../../src/lab/platform.js';
import { planLab, setupLab } from '../../src/lab/setup.js';
import { useTempDir } from '../support/temp-dir.js';

const DEBIAN: Platform = { distro: 'debian', headersMeta: 'linux-headers-amd64', flavour: '-amd64' };
const scratch = useTempDir('ab-setup-plan-');

/** dpkg/apt as a machine with `installed` packages and `images` apt can download; records each call. */
function apt(installed: string[], images: string[]) {
  const calls: string[] = [];
  const runner: CommandRunner = {
    async run(cmd, args) {
      calls.push([cmd, ...args].join(' '));
      if (cmd === 'dpkg-query') {
        const pattern = args.at(-1)!;
        const asked = pattern.includes('*') ? installed.filter((p) => p.startsWith('linux-headers-') && p.endsWith('-amd64')) : args.slice(3);
        return {
          code: 0,
          stdout: asked
            .filter((p) => installed.includes(p))
            .map((p) => `${p} installed\n`)
            .join(''),
          stderr: '',
        };
      }
      if (cmd === 'apt-cache') return { code: 0, stdout: `${args[1]}:\n  Candidate: ${images.includes(args[1]) ? '6.1.999-1' : '(none)'}\n`, stderr: '' };
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  return { runner, calls };
}

const TOOLS = ['qemu-system-x86', 'busybox-static', 'cpio', 'xz-utils', 'kmod', 'bubblewrap'];

describe('planLab', () => {
  test('the newest installed headers with a downloadable image, after installing the tools', async () => {
    const a = apt([...TOOLS, 'linux-headers-9.9.0-9-amd64', 'linux-headers-9.9.0-12-amd64', 'linux-headers-amd64'], ['linux-image-9.9.0-9-amd64']);
    expect(await planLab({ runner: a.runner, platform: DEBIAN, labDir: join(scratch, 'none') })).toBe('9.9.0-9-amd64');
    expect(a.calls).toContain('apt-cache policy linux-image-9.9.0-12-amd64');
  });

  test('a release asked for: its headers installed with the tools, no choice made', async () => {
    const a = apt([...TOOLS], ['linux-headers-9.9.0-70-amd64']);
    expect(await planLab({ release: '9.9.0-70-amd64', runner: a.runner, platform: DEBIAN })).toBe('9.9.0-70-amd64');
    expect(a.calls.filter((c) => c.startsWith('apt-get install'))).toEqual(['apt-get install -y -q --no-install-recommends linux-headers-9.9.0-70-amd64']);
  });
});

describe('setupLab through sudo', () => {
  test('a prepared release is reused and the lab dir handed to the owner', async () => {
    const labDir = join(scratch, 'lab');
    const r = '9.9.0-9-amd64';
    const kdir = join(labDir, r);
    mkdirSync(join(kdir, 'image/lib/modules', r), { recursive: true });
    for (const f of ['vmlinux', 'initrd.cpio']) writeFileSync(join(kdir, f), '');
    const buildDir = join(scratch, 'build');
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(join(buildDir, 'Makefile'), '');
    const entry = {
      release: r,
      vmlinux: join(kdir, 'vmlinux'),
      initrd: join(kdir, 'initrd.cpio'),
      buildDir,
      modulesDir: join(kdir, 'image/lib/modules', r),
      imagePackage: `linux-image-${r}`,
      imageVersion: '6.1.999-1',
      bootMode: 'pvh',
      initFingerprint: initFingerprint(),
      preparedAt: '2026-01-01T00:00:00Z',
      steps: [],
    };
    writeFileSync(join(labDir, 'manifest.json'), JSON.stringify({ version: 1, kernels: { [r]: entry } }));
    const a = apt([...TOOLS, `linux-headers-${r}`], []);
    const got = await setupLab({ release: r, labDir, runner: a.runner, platform: DEBIAN, owner: { uid: 1001, gid: 118 } });
    expect(got.release).toBe(r);
    expect(a.calls.at(-1)).toBe(`chown -R 1001:118 ${labDir}`);
    expect(a.calls.filter((c) => c.startsWith('apt-get'))).toEqual([]);
  });
});
