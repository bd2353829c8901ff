// A kernel's headers, extracted from Debian's .debs into the lab instead of installed: the
// -amd64 tree, the -common tree it includes and the linux-kbuild tools, under one root so that
// the packages' relative links (`scripts -> ../../lib/linux-kbuild-X/scripts`) resolve inside it.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { CommandRunner } from './command.js';

/** The Kbuild directory of `release` under an extracted root. */
function headersBuildDir(root: string, release: string): string {
  return join(root, 'usr/src', `linux-headers-${release}`);
}

/** The headers' Makefile includes the -common tree by absolute path: point it at the extracted copy. */
export function relocateMakefile(text: string, root: string): string {
  return text.replace(/^(\s*include\s+)\/usr\/src\//gm, `$1${root}/usr/src/`);
}

/**
 * Debian's headers name the compiler the kernel was built with (`CC = ... gcc-10`). Take it when
 * this machine has it, else the system gcc (bullseye's gcc-10 kernel takes modules built by gcc 12).
 * Decided when make runs, so that a lab restored from a cache on another runner image still builds.
 */
export function relocateKernelVariables(text: string): string {
  return text.replace(/^CC = .*?\b(gcc-\d+)[ \t]*$/m, (_all, cc: string) => `CC := $(firstword $(shell command -v $(CROSS_COMPILE)${cc} ${cc} gcc) gcc)`);
}

/**
 * Makes the extracted tree build modules: the include and compiler above; no module BTF (the
 * headers' vmlinux is its base: without it Kbuild skips BTF, which needs pahole and which the
 * analysis, reading trace text, does not use); no absolute links into /usr/src.
 */
export function prepareHeadersTree(root: string, release: string): string {
  const buildDir = headersBuildDir(root, release);
  const makefile = join(buildDir, 'Makefile');
  if (!existsSync(makefile)) throw new UsageError(`linux-headers-${release} has no usr/src/linux-headers-${release}/Makefile`);
  writeFileSync(makefile, relocateMakefile(readFileSync(makefile, 'utf8'), root));
  const vars = join(buildDir, '.kernelvariables');
  if (existsSync(vars)) writeFileSync(vars, relocateKernelVariables(readFileSync(vars, 'utf8')));
  rmSync(join(buildDir, 'vmlinux'), { force: true });
  rmSync(join(root, 'lib'), { recursive: true, force: true });
  return buildDir;
}

/**
 * Runs the kbuild package's programs that every module build runs (fixdep, modpost): a kbuild
 * built against a newer C library than this machine's cannot run here (trixie's needs glibc 2.38).
 */
export async function checkKbuildTools(runner: CommandRunner, buildDir: string, release: string): Promise<void> {
  const tools = ['scripts/basic/fixdep', 'scripts/mod/modpost.real-lsb-64', 'scripts/mod/modpost'].map((t) => join(buildDir, t)).filter((t) => existsSync(t));
  for (const tool of tools) {
    const r = await runner.run(tool, []);
    const broken = /GLIBC_[\d.]+'? not found|cannot execute|No such file or directory/.exec(r.stderr);
    if (r.code === 126 || r.code === 127 || broken) {
      throw new UsageError(
        `the kbuild tools of ${release} do not run on this machine (${tool.slice(buildDir.length + 1)}: ${(broken?.[0] ?? r.stderr.trim()).slice(0, 200)}): ` +
          'choose a build of that kernel made for an older Debian (bookworm\'s "+deb12" 6.12, like --kernel 6.12.118+deb12-amd64) or run on a newer runner image',
      );
    }
  }
}
