// What `vm-kernel` / `--kernel` accept, and the extracted headers made to build where they lie.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compilerFromDepends, parseKernelSpec, releaseLine, releaseUpstream } from '../../src/lab/kernel-spec.js';
import { checkKbuildTools, prepareHeadersTree, relocateKernelVariables, relocateMakefile } from '../../src/lab/lab-headers.js';
import type { CommandRunner } from '../../src/lab/command.js';
import { sourcesList } from '../../src/lab/debian-archive.js';
import { useTempDir } from '../support/temp-dir.js';

const scratch = useTempDir('ab-kernel-spec-');

describe('kernel names', () => {
  test('lines, exact releases, the default, and what is neither', () => {
    expect(parseKernelSpec('5.10')).toEqual({ line: '5.10' });
    expect(parseKernelSpec('')).toEqual({ line: '6.1' });
    expect(parseKernelSpec('6.12.118+deb12-amd64')).toEqual({ release: '6.12.118+deb12-amd64' });
    expect(parseKernelSpec('6.12.115+deb13.1-amd64')).toEqual({ release: '6.12.115+deb13.1-amd64' });
    expect(parseKernelSpec('5.10.0-46-amd64')).toEqual({ release: '5.10.0-46-amd64' });
    for (const bad of ['6', 'latest', '6.1.0-57-rt-amd64', '6.8.0-45-generic', '6.1.0-57']) expect(parseKernelSpec(bad)).toBeNull();
    expect(releaseLine('6.12.118+deb12-amd64')).toBe('6.12');
    expect(releaseUpstream('6.12.118+deb13-amd64')).toBe(releaseUpstream('6.12.118+deb12-amd64'));
    expect(releaseUpstream('5.10.0-46-amd64')).toBe('5.10.0-46');
  });

  test("the compiler a headers package names: bullseye's linux-compiler-gcc-10-x86, trixie's gcc-14", () => {
    expect(compilerFromDepends('linux-headers-5.10.0-46-common (= 5.10.262-1), linux-kbuild-5.10 (>= 5.10.262-1), linux-compiler-gcc-10-x86')).toBe('gcc-10');
    expect(compilerFromDepends('linux-base (>= 4.12~), linux-kbuild-6.12.118+deb13, gcc-14')).toBe('gcc-14');
    expect(compilerFromDepends('linux-kbuild-6.1')).toBe('');
  });

  test("the private apt reads every suite with Debian's keyring", () => {
    const list = sourcesList();
    for (const suite of ['bullseye', 'bullseye-security', 'bookworm', 'bookworm-security', 'bookworm-backports', 'trixie', 'trixie-security']) {
      expect(list).toContain(` ${suite} main\n`);
    }
    expect(
      list
        .split('\n')
        .filter(Boolean)
        .every((l) => l.includes('signed-by=/usr/share/keyrings/debian-archive-keyring.gpg')),
    ).toBe(true);
  });
});

describe('extracted headers', () => {
  test('the include of the -common tree points at the extracted copy; the compiler falls back to gcc', () => {
    expect(relocateMakefile('include /usr/src/linux-headers-5.10.0-46-common/Makefile\n', '/lab/5.10/headers')).toBe(
      'include /lab/5.10/headers/usr/src/linux-headers-5.10.0-46-common/Makefile\n',
    );
    const vars = relocateKernelVariables('override ARCH = x86\nCC = $(if $(DEBIAN_KERNEL_USE_CCACHE),$(CCACHE)) $(CROSS_COMPILE)gcc-10\n');
    expect(vars).toBe('override ARCH = x86\nCC := $(firstword $(shell command -v $(CROSS_COMPILE)gcc-10 gcc-10 gcc) gcc)\n');
  });

  test('a tree as the packages lay it out: relocated, without the BTF base and the absolute links', () => {
    const root = join(scratch, 'headers');
    const r = '6.12.118+deb12-amd64';
    const dir = join(root, 'usr/src', `linux-headers-${r}`);
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, 'lib/modules', r), { recursive: true });
    symlinkSync(`/usr/src/linux-headers-${r}`, join(root, 'lib/modules', r, 'build'));
    writeFileSync(join(dir, 'Makefile'), 'include /usr/src/linux-headers-6.12.118+deb12-common/Makefile\n');
    writeFileSync(join(dir, '.kernelvariables'), 'CC = $(if $(DEBIAN_KERNEL_USE_CCACHE),$(CCACHE)) $(CROSS_COMPILE)gcc-12\n');
    writeFileSync(join(dir, 'vmlinux'), 'ELF');
    expect(prepareHeadersTree(root, r)).toBe(dir);
    expect(readFileSync(join(dir, 'Makefile'), 'utf8')).toBe(`include ${root}/usr/src/linux-headers-6.12.118+deb12-common/Makefile\n`);
    expect(readFileSync(join(dir, '.kernelvariables'), 'utf8')).toContain('command -v $(CROSS_COMPILE)gcc-12 gcc-12 gcc');
    expect(existsSync(join(dir, 'vmlinux'))).toBe(false);
    expect(existsSync(join(root, 'lib'))).toBe(false);
  });

  test("kbuild tools built for a newer C library than this machine's (trixie's: glibc 2.38) stop the set-up, naming the way out", async () => {
    const dir = join(scratch, 'kbuild');
    mkdirSync(join(dir, 'scripts/basic'), { recursive: true });
    mkdirSync(join(dir, 'scripts/mod'), { recursive: true });
    for (const t of ['scripts/basic/fixdep', 'scripts/mod/modpost.real-lsb-64']) writeFileSync(join(dir, t), '');
    // As bookworm's glibc 2.36 answers trixie's modpost (measured on 6.12.118+deb13's linux-kbuild).
    const runner = (stderr: string): CommandRunner => ({
      run: async (cmd) =>
        cmd.endsWith('fixdep') ? { code: 1, stdout: '', stderr: 'Usage: fixdep <depfile> <target> <cmdline>\n' } : { code: 1, stdout: '', stderr },
    });
    const glibc = `${dir}/scripts/mod/modpost.real-lsb-64: /lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.38' not found (required by ${dir}/scripts/mod/modpost.real-lsb-64)`;
    await expect(checkKbuildTools(runner(glibc), dir, '6.12.118+deb13-amd64')).rejects.toThrow(
      /the kbuild tools of 6\.12\.118\+deb13-amd64 do not run on this machine \(scripts\/mod\/modpost\.real-lsb-64: GLIBC_2\.38' not found\): choose a build of that kernel made for an older Debian/,
    );
    await expect(checkKbuildTools(runner(''), dir, '6.12.118+deb12-amd64')).resolves.toBeUndefined();
  });
});
