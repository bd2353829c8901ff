// `lab setup --kernel 5.10` from scratch on a runner whose apt cannot install any kernel package
// (what an Ubuntu runner is to a Debian kernel): the kernel comes from Debian's archive, its
// headers build a module in the build sandbox, and nothing of it is installed. Real downloads
// (about 70 MB); needs root and deb.debian.org.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type CommandRunner, spawnRunner } from '../../src/lab/command.js';
import { releaseLine } from '../../src/lab/kernel-spec.js';
import { setupLab } from '../../src/lab/setup.js';
import { buildModule } from '../../src/module-build/build-module.js';
import { readVermagic, vermagicRelease } from '../../src/module-build/module-info.js';
import { kernelReadable } from '../../src/run/side.js';
import { findSandboxLauncher, sandboxWrapper } from '../../src/sandbox/build-sandbox.js';
import { HELLO_SOURCE } from '../support/hello-module.js';
import { useTempDir } from '../support/temp-dir.js';

const scratch = useTempDir('ab-debian-kernel-');

/** The machine's commands, except that apt-get and dpkg refuse to install a kernel package. */
function noKernelPackages(): { runner: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  const runner: CommandRunner = {
    run(cmd, args, opts) {
      calls.push([cmd, ...args]);
      const installs = (cmd === 'apt-get' && args.includes('install')) || (cmd === 'dpkg' && args.some((a) => a === '-i' || a === '--install'));
      if (installs && args.some((a) => /^linux-|linux-(image|headers|kbuild)/.test(a))) {
        return Promise.resolve({ code: 100, stdout: '', stderr: 'E: this runner installs no kernel package' });
      }
      return spawnRunner.run(cmd, args, opts);
    },
  };
  return { runner, calls };
}

describe('lab setup with a Debian kernel, no kernel package installable', () => {
  test('5.10: downloaded and extracted into the lab; its headers build a module in the sandbox', async () => {
    const labDir = join(scratch, 'lab');
    const { runner, calls } = noKernelPackages();
    const lines: string[] = [];
    const t0 = performance.now();
    const entry = await setupLab({ kernel: '5.10', labDir, runner, log: (l) => lines.push(l) });
    console.log(
      `lab setup --kernel 5.10 from scratch: ${((performance.now() - t0) / 1000).toFixed(1)} s (${entry.steps.map((s) => `${s.name} ${s.seconds} s`).join(', ')})`,
    );

    expect(releaseLine(entry.release)).toBe('5.10');
    for (const f of [entry.vmlinux, entry.initrd, entry.modulesDir, join(entry.buildDir, 'Makefile')]) expect(f.startsWith(labDir) && existsSync(f)).toBe(true);
    expect(entry.bootMode).toBe('pvh');
    // The kernel's four packages came through apt's download of the private configuration, at one version.
    const download = calls.find((c) => c[0] === 'apt-get' && c.includes('download'));
    expect(download?.join(' ')).toContain(`Dir::Etc::SourceList=`);
    const wanted = download?.filter((a) => /^linux-.*=/.test(a)).map((a) => a.split('=')[0]);
    expect(wanted).toEqual([
      `linux-image-${entry.release}-unsigned`,
      `linux-headers-${entry.release}`,
      expect.stringMatching(/^linux-headers-5\.10\.0-\d+-common$/),
      'linux-kbuild-5.10',
    ]);
    expect(new Set(download?.filter((a) => /^linux-.*=/.test(a)).map((a) => a.split('=')[1]))).toEqual(new Set([entry.imageVersion]));
    // Nothing of the kernel is installed on this machine.
    expect(calls.filter((c) => c[0] === 'apt-get' && c.includes('install') && c.some((a) => a.startsWith('linux-')))).toEqual([]);
    for (const pkg of [`linux-headers-${entry.release}`, `linux-image-${entry.release}-unsigned`, 'linux-kbuild-5.10']) {
      const q = spawnSync('dpkg-query', ['-W', '-f', '${db:Status-Status}', pkg], { encoding: 'utf8' });
      expect(q.stdout.trim() === '' || q.stdout.trim() === 'not-installed').toBe(true);
    }
    expect(readFileSync(join(entry.buildDir, 'Makefile'), 'utf8')).toContain(`include ${labDir}/`);

    const dir = mkdtempSync(join(scratch, 'hello-'));
    writeFileSync(join(dir, 'ab_hello.c'), HELLO_SOURCE);
    writeFileSync(join(dir, 'Kbuild'), 'obj-m := ab_hello.o\n');
    const built = await buildModule({
      moduleDir: dir,
      kernelBuildDir: entry.buildDir,
      wrap: sandboxWrapper({ writable: [dir], readable: kernelReadable(entry) }, findSandboxLauncher()),
    });
    expect(built.reason).toBeUndefined();
    expect(vermagicRelease(await readVermagic(join(dir, 'ab_hello.ko')))).toBe(entry.release);

    // Set up again: found in the lab, nothing downloaded.
    const again = noKernelPackages();
    expect((await setupLab({ kernel: '5.10', labDir, runner: again.runner })).release).toBe(entry.release);
    expect(again.calls.filter((c) => c[0] === 'apt-get')).toEqual([]);
  });
});
