// The lab's pure parts on real inputs: console text captured from lab VMs, archives listed by the
// real cpio, job scripts run by the real sh, the real kernel image.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { labCommand } from '../../src/cli/lab.js';
import { cpioArchive } from '../../src/lab/cpio.js';
import { ConsoleWatch } from '../../src/lab/console-watch.js';
import { guestEnvFile, initScript, jobScript } from '../../src/lab/guest-scripts.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { detectPlatform, distroFromOsRelease } from '../../src/lab/platform.js';
import { qemuArgs } from '../../src/lab/qemu-args.js';
import { type GuestJob, validateJob } from '../../src/lab/run-in-guest.js';
import { UsageError } from '../../src/errors.js';
import { useTempDir } from '../support/temp-dir.js';

const data = (name: string) => readFileSync(join(import.meta.dirname, 'data', name), 'utf8');
const scratch = useTempDir('ab-lab-pure-');

function watchAll(text: string, nonce: string, chunk = text.length): ConsoleWatch {
  const w = new ConsoleWatch(nonce);
  for (let i = 0; i < text.length; i += chunk) w.push(text.slice(i, i + chunk));
  w.end();
  return w;
}

describe('console watch on real lab consoles', () => {
  test('an oops while loading a module: panic, excerpt from the BUG line to the panic', () => {
    const w = watchAll(data('oops-insmod.console.txt'), 'd7482c8ad511b9f4');
    expect(w.initSeen).toBe(true);
    expect(w.jobStarted).toBe(true);
    expect(w.exitCode).toBeNull();
    expect(w.kernelPanic).toBe(true);
    const lines = w.excerpt().split('\n');
    const bug = lines.findIndex((l) => l.includes('BUG: kernel NULL pointer dereference'));
    expect(lines[bug - 1]).toBe('before-crash');
    expect(lines[0]).toBe('SeaBIOS (version 1.16.2-debian-1.16.2-1)');
    expect(w.excerpt()).toContain('RIP: 0010:ab_oops_init+0x11/0x1000 [ab_oops]');
    expect(lines.at(-2)).toContain('Kernel panic - not syncing: Fatal exception');
  });

  test('a sysrq crash: panic found, no firmware escape codes in the excerpt', () => {
    const w = watchAll(data('sysrq-crash.console.txt'), 'd7e93e906b8a7b1d');
    expect(w.kernelPanic).toBe(true);
    expect(w.excerpt()).toContain('sysrq: Trigger a crash');
    expect(w.excerpt()).toContain('Kernel panic - not syncing: sysrq triggered crash');
    expect(w.excerpt()).not.toContain('\x1b');
  });

  test('results do not depend on how the stream is cut', () => {
    const text = data('oops-insmod.console.txt');
    const whole = watchAll(text, 'd7482c8ad511b9f4');
    for (const chunk of [1, 7, 100]) {
      const w = watchAll(text, 'd7482c8ad511b9f4', chunk);
      expect([w.initSeen, w.jobStarted, w.kernelPanic, w.excerpt(), w.text()]).toEqual([
        whole.initSeen,
        whole.jobStarted,
        whole.kernelPanic,
        whole.excerpt(),
        whole.text(),
      ]);
    }
  });

  test('job exit code and setup failure markers; markers with another nonce are ignored', () => {
    const w = watchAll(
      'alloc-balance-guest: init 2.1\r\nalloc-balance-guest: abc job-start 2.5\r\n' +
        'alloc-balance-guest: forged job-exit 0 1\r\nalloc-balance-guest: abc job-exit 7 3.0\r\n',
      'abc',
    );
    expect([w.initSeen, w.jobStarted, w.exitCode, w.kernelPanic]).toEqual([true, true, 7, false]);
    const f = watchAll('alloc-balance-guest: init 2.1\r\nalloc-balance-guest: setup-failed mount of /x over 9p\r\n', 'abc');
    expect(f.setupFailure).toBe('mount of /x over 9p');
  });

  test('the kept console is capped (start and end, omission noted), whatever the guest prints', () => {
    const w = new ConsoleWatch('n', {}, 1000, 4000);
    for (let i = 0; i < 10000; i++) w.push(`line ${i} ${'x'.repeat(50)}\r\n`);
    w.end();
    const text = w.text();
    expect(text.length).toBeLessThan(6000);
    expect(text.startsWith('line 0 ')).toBe(true);
    expect(text).toContain('line 9999 ');
    expect(text).toMatch(/\[\.\.\. \d+ bytes of console output omitted \.\.\.\]/);
  });
});

describe('initramfs archive', () => {
  test('the real cpio lists directories, files, symlinks and device nodes as written', () => {
    const file = join(scratch, 'x.cpio');
    writeFileSync(
      file,
      cpioArchive([
        { kind: 'dir', path: 'bin' },
        { kind: 'file', path: 'bin/hello', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
        { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
        { kind: 'dir', path: 'dev' },
        { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      ]),
    );
    const listing = execFileSync('cpio', ['-itv', '--quiet', '-F', file], { encoding: 'utf8' });
    const rows = listing.trim().split('\n');
    expect(rows).toHaveLength(5);
    expect(rows[1]).toMatch(/^-rwxr-xr-x .* 18 .* bin\/hello$/);
    expect(rows[2]).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/);
    expect(rows[4]).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/);
    const out = join(scratch, 'unpacked');
    execFileSync('sh', ['-c', `mkdir -p ${out} && cd ${out} && cpio -id --quiet --no-absolute-filenames -F ${file} bin/hello`]);
    expect(readFileSync(join(out, 'bin/hello'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
  });
});

describe('guest scripts', () => {
  test('the job script gives the program its exact argv, a clean environment and its cwd (run by the real sh)', () => {
    const job = {
      argv: [
        process.execPath,
        '-e',
        'console.log(JSON.stringify({ argv: process.argv.slice(1), env: process.env, cwd: process.cwd() }))',
        "it's",
        'a b',
        '$HOME',
        '"q"',
      ],
      cwd: scratch,
      env: { AB_X: 'va lue', PATH: '/usr/bin:/bin' },
    };
    const script = join(scratch, 'job.sh');
    writeFileSync(script, jobScript(job));
    const got = JSON.parse(execFileSync('/bin/sh', [script], { encoding: 'utf8', env: { SECRET: 'no' } }));
    expect(got.argv).toEqual(["it's", 'a b', '$HOME', '"q"']);
    expect(got.cwd).toBe(scratch);
    expect(got.env).toEqual({ AB_X: 'va lue', PATH: '/usr/bin:/bin', HOME: '/root', LANG: 'C.UTF-8' });
  });

  test('a missing cwd ends the job with 126', () => {
    const script = join(scratch, 'job2.sh');
    writeFileSync(script, jobScript({ argv: ['/bin/true'], cwd: join(scratch, 'nowhere') }));
    let status = 0;
    try {
      execFileSync('/bin/sh', [script], { stdio: 'ignore' });
    } catch (e) {
      status = (e as { status: number }).status;
    }
    expect(status).toBe(126);
  });

  test('init and the per-run file are valid sh', () => {
    for (const text of [
      initScript(['/lib/modules/00-virtio.ko']),
      guestEnvFile("/tmp/o'ut dir", 'n', { links: [{ path: '/bin', target: 'usr/bin' }], shares: ['/usr', "/tmp/a b'c"] }),
    ]) {
      const file = join(scratch, 'check.sh');
      writeFileSync(file, text);
      execFileSync('sh', ['-n', file]);
    }
  });
});

describe('validation and refusals', () => {
  const ok: GuestJob = { argv: ['/bin/true'], cwd: '/', outDir: '/tmp/x', timeoutSeconds: 5 };
  test.each([
    [{ argv: [] }, /argv must be a non-empty list/],
    [{ cwd: 'relative' }, /cwd "relative" must be an absolute host path/],
    [{ outDir: 'out' }, /outDir "out" must be an absolute host path/],
    [{ outDir: '/' }, /outDir must not be \//],
    [{ timeoutSeconds: 0 }, /timeoutSeconds 0 must be a positive number/],
    [{ env: { 'A-B': '1' } }, /environment variable "A-B"/],
  ])('job %j is refused', (change, message) => {
    expect(() => validateJob({ ...ok, ...change } as GuestJob)).toThrow(UsageError);
    expect(() => validateJob({ ...ok, ...change } as GuestJob)).toThrow(message);
  });

  test('distributions from os-release', () => {
    expect(distroFromOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')).toBe('debian');
    expect(distroFromOsRelease('ID=ubuntu\nID_LIKE=debian\n')).toBe('ubuntu');
    expect(distroFromOsRelease('ID=linuxmint\nID_LIKE="ubuntu debian"\n')).toBe('ubuntu');
    expect(distroFromOsRelease('ID="fedora"\n')).toBeNull();
  });

  test('setup refuses a non-root user and a non-apt system, saying what to do', () => {
    expect(() => detectPlatform({ uid: 1000, osRelease: 'ID=debian\n', arch: 'x64' })).toThrow(/as root \(sudo/);
    expect(() => detectPlatform({ uid: 0, osRelease: 'ID=fedora\n', arch: 'x64' })).toThrow(/Debian and Ubuntu .* only/);
    expect(detectPlatform({ uid: 0, osRelease: 'ID=ubuntu\n', arch: 'x64' }).distro).toBe('ubuntu');
  });

  test('an empty lab directory says how to set it up', () => {
    expect(() => findLabKernel('', join(scratch, 'no-lab'))).toThrow(/no kernel of line 6\.1 prepared: run `sudo node dist\/cli.js lab setup`/);
  });

  test('the CLI refuses unknown subcommands and options in one line', async () => {
    await expect(labCommand(['bogus'])).rejects.toThrow(/lab: unknown subcommand "bogus"; usage: alloc-balance lab setup/);
    await expect(labCommand(['setup', '--kernal', 'x'])).rejects.toThrow(
      /^lab setup: unknown option --kernal \(known: --kernel, --dir, --owner, --json, --qemu\)$/,
    );
    await expect(labCommand(['setup', '--kernel', '../etc'])).rejects.toThrow(/is not a Debian kernel line \(5\.10, 6\.1, 6\.12\) or an exact release/);
  });
});

describe('QEMU command line and kernel image', () => {
  test('commas in shared paths are escaped; KVM gets the host CPU', () => {
    const args = qemuArgs({
      vmlinux: '/k',
      initrd: '/i',
      accel: 'kvm',
      memoryMb: 512,
      cpus: 1,
      outDir: '/tmp/a,b',
      ctlDir: '/tmp/c',
      shares: ['/usr', '/w,t'],
    });
    expect(args).toContain('local,path=/tmp/a,,b,mount_tag=out,security_model=none,multidevs=remap');
    expect(args.slice(args.indexOf('-cpu'), args.indexOf('-cpu') + 2)).toEqual(['-cpu', 'host']);
    expect(args[args.indexOf('-append') + 1]).toContain('oops=panic');
    expect(args[args.indexOf('-append') + 1]).toContain('softlockup_panic=1');
    expect(args[args.indexOf('-append') + 1]).toContain('watchdog_thresh=60');
    // The guest sees the control folder, the shares (read-only, tags s0, s1, ...) and the out folder: never the host's root.
    const shared = args.filter((_, i) => args[i - 1] === '-virtfs');
    expect(shared).toEqual([
      'local,path=/tmp/c,mount_tag=ctl,security_model=none,readonly=on,multidevs=remap',
      'local,path=/usr,mount_tag=s0,security_model=none,readonly=on,multidevs=remap',
      'local,path=/w,,t,mount_tag=s1,security_model=none,readonly=on,multidevs=remap',
      'local,path=/tmp/a,,b,mount_tag=out,security_model=none,multidevs=remap',
    ]);
    expect(args.slice(args.indexOf('-accel'), args.indexOf('-accel') + 2)).toEqual(['-accel', 'kvm']);
  });

  test('software emulation: the max CPU model, all vCPUs on one thread', () => {
    const args = qemuArgs({ vmlinux: '/k', initrd: '/i', accel: 'tcg', memoryMb: 512, cpus: 2, outDir: '/o', ctlDir: '/c', shares: [] });
    expect(args.slice(args.indexOf('-accel'), args.indexOf('-accel') + 2)).toEqual(['-accel', 'tcg,thread=single']);
    expect(args.slice(args.indexOf('-cpu'), args.indexOf('-cpu') + 2)).toEqual(['-cpu', 'max']);
    expect(args.slice(args.indexOf('-smp'), args.indexOf('-smp') + 2)).toEqual(['-smp', '2']);
  });
});
