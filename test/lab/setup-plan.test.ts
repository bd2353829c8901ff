// `lab plan` (the release a set-up would prepare, after installing the tools) and a set-up
// through sudo handing the lab to the calling user: setupLab/planLab over a recorded apt, the
// runner's (dpkg-query, apt-get install) and the private one reading Debian's archive.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { CommandRunner } from '../../src/lab/command.js';
import { initFingerprint } from '../../src/lab/guest-scripts.js';
import type { Platform } from '../../src/lab/platform.js';
import { TOOL_PACKAGES } from '../../src/lab/platform.js';
import { planLab, setupLab } from '../../src/lab/setup.js';
import { useTempDir } from '../support/temp-dir.js';

const DEBIAN: Platform = { distro: 'debian' };
const scratch = useTempDir('ab-setup-plan-');

/** The archive's headers packages: release, version, Depends. */
const ARCHIVE: [string, string, string][] = [
  ['5.10.0-45-amd64', '5.10.251-1', 'linux-headers-5.10.0-45-common (= 5.10.251-1), linux-kbuild-5.10 (>= 5.10.251-1), linux-compiler-gcc-10-x86'],
  ['5.10.0-46-amd64', '5.10.262-1', 'linux-headers-5.10.0-46-common (= 5.10.262-1), linux-kbuild-5.10 (>= 5.10.262-1), linux-compiler-gcc-10-x86'],
  ['6.1.0-57-amd64', '6.1.192-3', 'linux-headers-6.1.0-57-common (= 6.1.192-3), linux-kbuild-6.1 (>= 6.1.192-3), linux-compiler-gcc-12-x86'],
  ['6.12.117+deb13-amd64', '6.12.117-1', 'linux-headers-6.12.117+deb13-common (= 6.12.117-1), linux-kbuild-6.12.117+deb13, gcc-14'],
  [
    '6.12.118+deb12-amd64',
    '6.12.118-1~deb12u1',
    'linux-base (>= 4.12~), linux-headers-6.12.118+deb12-common (= 6.12.118-1~deb12u1), linux-kbuild-6.12.118+deb12, gcc-12',
  ],
  ['6.12.118+deb13-amd64', '6.12.118-1', 'linux-base (>= 4.12~), linux-headers-6.12.118+deb13-common (= 6.12.118-1), linux-kbuild-6.12.118+deb13, gcc-14'],
];

/** dpkg/apt as a machine with `installed` packages and Debian's archive above; records each call. */
function apt(installed: string[]) {
  const calls: string[] = [];
  const runner: CommandRunner = {
    async run(cmd, args) {
      const plain = args.filter((a, i) => a !== '-o' && args[i - 1] !== '-o');
      calls.push([cmd, ...plain].join(' '));
      if (cmd === 'dpkg-query') {
        return {
          code: 0,
          stdout: plain
            .slice(3)
            .filter((p) => installed.includes(p))
            .map((p) => `${p} installed\n`)
            .join(''),
          stderr: '',
        };
      }
      if (cmd === 'apt-get' && plain[0] === 'update' && args.some((a) => a.startsWith('Dir::State::Lists='))) {
        const lists = args.find((a) => a.startsWith('Dir::State::Lists='))!.split('=')[1];
        mkdirSync(lists, { recursive: true });
        writeFileSync(join(lists, 'deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages.lz4'), '');
      }
      if (cmd === 'apt-cache' && plain[0] === 'pkgnames') {
        const names = ARCHIVE.flatMap(([r]) => [`linux-headers-${r}`, `linux-headers-${r.replace('-amd64', '-rt-amd64')}`]);
        return { code: 0, stdout: [...names, 'linux-headers-amd64', 'linux-headers-6.12-amd64'].join('\n'), stderr: '' };
      }
      if (cmd === 'apt-cache' && plain[0] === 'show') {
        const pkg = plain.at(-1)!;
        const image = /^linux-image-(.+?)(-unsigned)?=(.+)$/.exec(pkg);
        if (image) return { code: 0, stdout: `Package: ${pkg.split('=')[0]}\nVersion: ${image[3]}\n`, stderr: '' };
        const found = ARCHIVE.find(([r]) => pkg === `linux-headers-${r}`);
        if (found) return { code: 0, stdout: `Package: ${pkg}\nVersion: ${found[1]}\nDepends: ${found[2]}\n`, stderr: '' };
        return { code: 100, stdout: '', stderr: `E: No packages found` };
      }
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  return { runner, calls };
}

const plan = (kernel: string, a: ReturnType<typeof apt>, compilers = ['gcc-12']) =>
  planLab({ kernel, runner: a.runner, platform: DEBIAN, archiveStateDir: join(scratch, 'apt'), hasCompiler: (c) => compilers.includes(c) });

describe('planLab', () => {
  test('a line names the newest release the archive offers, after installing the tools and no kernel package', async () => {
    const a = apt([]);
    expect(await plan('5.10', a)).toBe('5.10.0-46-amd64');
    expect(a.calls.filter((c) => c.startsWith('apt-get install'))).toEqual([`apt-get install -y -q --no-install-recommends ${TOOL_PACKAGES.join(' ')}`]);
    expect(a.calls.some((c) => /apt-get install .*linux-/.test(c))).toBe(false);
  });

  test("6.12: of the newest version's builds, the one whose compiler is here (gcc 12: bookworm's; gcc 14: trixie's)", async () => {
    expect(await plan('6.12', apt(TOOL_PACKAGES))).toBe('6.12.118+deb12-amd64');
    expect(await plan('6.12', apt(TOOL_PACKAGES), ['gcc-12', 'gcc-14'])).toBe('6.12.118+deb13-amd64');
    // No build's compiler here: the newest build (its headers fall back to the system gcc).
    expect(await plan('6.12', apt(TOOL_PACKAGES), [])).toBe('6.12.118+deb13-amd64');
  });

  test('no kernel named: the default line 6.1; an exact release: that release', async () => {
    expect(await plan('', apt(TOOL_PACKAGES))).toBe('6.1.0-57-amd64');
    expect(await plan('5.10.0-45-amd64', apt(TOOL_PACKAGES))).toBe('5.10.0-45-amd64');
  });

  test('a line or release the archive does not offer, or a name that is neither: one error saying what is offered', async () => {
    await expect(plan('4.19', apt(TOOL_PACKAGES))).rejects.toThrow(/offers no kernel of line 4\.19; it offers the lines 5\.10, 6\.1, 6\.12/);
    await expect(plan('6.1.0-99-amd64', apt(TOOL_PACKAGES))).rejects.toThrow(/offers no kernel 6\.1\.0-99-amd64/);
    await expect(plan('latest', apt(TOOL_PACKAGES))).rejects.toThrow(/kernel "latest" is not a Debian kernel line \(5\.10, 6\.1, 6\.12\) or an exact release/);
  });
});

describe('setupLab through sudo', () => {
  test('a prepared release is reused and the lab dir handed to the owner', async () => {
    const labDir = join(scratch, 'lab');
    const r = '6.1.0-9-amd64';
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
    const a = apt(TOOL_PACKAGES);
    const got = await setupLab({ kernel: r, labDir, runner: a.runner, platform: DEBIAN, owner: { uid: 1001, gid: 118 } });
    expect(got.release).toBe(r);
    expect(a.calls.at(-1)).toBe(`chown -R 1001:118 ${labDir}`);
    expect(a.calls.filter((c) => c.startsWith('apt'))).toEqual([]);
    // A line the lab holds a kernel of is served without asking the archive.
    const again = apt(TOOL_PACKAGES);
    expect((await setupLab({ kernel: '6.1', labDir, runner: again.runner, platform: DEBIAN })).release).toBe(r);
    expect(again.calls).toEqual([]);
  });
});
