// Runs real VMs (QEMU, TCG here) on the kernel `lab setup` prepared. Without a prepared lab these
// tests fail with the command to run.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, test } from 'vitest';
import { findLabKernel, labDirOf, type LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { chooseQemu, readLabQemu, systemQemuVersion } from '../../src/lab/lab-qemu.js';
import { NIC_MODELS, nicAddresses } from '../../src/lab/vm-nics.js';
import { spawnRunner } from '../../src/lab/command.js';
import { GuestError, liveGuests, runInGuest } from '../../src/lab/run-in-guest.js';
import { setupLab } from '../../src/lab/setup.js';
import { fileEntry, writeCpio } from '../../src/lab/cpio.js';

import { installPrefix } from '../../src/sandbox/system-view.js';

const ROOT = resolve(import.meta.dirname, '../..');
import { buildHelloModule } from '../support/hello-module.js';
import { useTempDir } from '../support/temp-dir.js';

let kernel: LabManifestEntry;
const work = useTempDir('ab-lab-test-');

/** QEMU processes whose command line mentions `needle` (the per-test outDir). */
function qemuWith(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('qemu-system') && l.includes(needle));
}

beforeAll(() => {
  kernel = findLabKernel();
});

describe('lab setup', () => {
  test('is idempotent: a second call is fast and returns the same manifest entry', async () => {
    const t0 = performance.now();
    const first = await setupLab({ kernel: kernel.release });
    const t1 = performance.now();
    const second = await setupLab();
    const t2 = performance.now();
    expect(first).toEqual(kernel);
    expect(second).toEqual(kernel);
    expect(t1 - t0).toBeLessThan(3000);
    expect(t2 - t1).toBeLessThan(3000);
    expect(kernel.bootMode).toBe('pvh');
    expect(readFileSync(kernel.vmlinux).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  });
});

describe('runInGuest', () => {
  test("runs the host's node in the chroot: outDir, exit code, tracefs, insmod/rmmod of a Kbuild module", async () => {
    const { dir, ko } = buildHelloModule(kernel.buildDir, work);
    try {
      const vermagic = execFileSync('modinfo', ['-F', 'vermagic', ko], { encoding: 'utf8' });
      expect(vermagic.split(' ')[0]).toBe(kernel.release);
      const outDir = join(work, 'node-job');
      const script = join(dir, 'job.mjs');
      // Planted where the guest must not look: root's home, and this checkout (not shared).
      const planted = join('/root', `.ab-planted-${process.pid}`);
      writeFileSync(planted, 'planted-secret');
      writeFileSync(
        script,
        `import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const startedAt = readFileSync('/proc/uptime', 'utf8').split(' ')[0];
const sh = (c) => execFileSync('/bin/sh', ['-c', c], { encoding: 'utf8' });
const facts = {
  startedAt,
  cwd: process.cwd(),
  env: process.env.AB_TEST,
  uname: sh('uname -r').trim(),
  tracers: readFileSync('/sys/kernel/tracing/available_tracers', 'utf8').trim(),
  insmod: sh('insmod ${ko} && grep -c "^ab_hello " /proc/modules'),
  rmmod: sh('rmmod ab_hello && (grep -c "^ab_hello " /proc/modules || true)'),
  dmesg: sh('dmesg | grep ab_hello'),
  modprobe: sh('modprobe dummy && grep -c "^dummy " /proc/modules && modprobe -r dummy'),
  tmpWritable: sh('echo x > /tmp/ab-guest-write && cat /tmp/ab-guest-write'),
  hostSecretSeen: sh('cat ${planted} 2>&1 || true'),
  checkoutSeen: sh('cat ${ROOT}/package.json 2>&1 || true'),
};
writeFileSync(process.argv[2] + '/facts.json', JSON.stringify(facts));
console.log('node-started ' + startedAt);
process.exit(3);
`,
      );
      const result = await runInGuest(kernel, {
        argv: [process.execPath, script, outDir],
        cwd: dir,
        env: { AB_TEST: "it's here" },
        outDir,
        shares: [dir, installPrefix(process.execPath)],
        timeoutSeconds: 60,
      }).finally(() => rmSync(planted, { force: true }));
      expect(result.console).toContain('node-started');
      expect(result.exitCode).toBe(3);
      expect(result.timedOut).toBe(false);
      expect(result.kernelPanic).toBe(false);
      const facts = JSON.parse(readFileSync(join(outDir, 'facts.json'), 'utf8'));
      expect(facts.cwd).toBe(dir);
      expect(facts.env).toBe("it's here");
      expect(facts.uname).toBe(kernel.release);
      expect(facts.tracers.split(/\s+/)).toContain('function');
      expect(facts.insmod.trim()).toBe('1');
      expect(facts.rmmod.trim()).toBe('0');
      expect(facts.dmesg).toContain('ab_hello: loaded');
      expect(facts.dmesg).toContain('ab_hello: unloaded');
      expect(facts.modprobe.trim()).toBe('1');
      expect(facts.tmpWritable.trim()).toBe('x');
      expect(facts.hostSecretSeen).toContain('No such file');
      expect(facts.hostSecretSeen).not.toContain('planted-secret');
      expect(facts.checkoutSeen).toContain('No such file');
      expect(result.shared.sort()).toEqual([dir, kernel.modulesDir, outDir, installPrefix(process.execPath)].filter((p) => !p.startsWith('/usr/')).sort());
      // Writes outside outDir stay in the guest.
      expect(existsSync('/tmp/ab-guest-write')).toBe(false);
      expect(readFileSync(join(outDir, 'guest-exit-code'), 'utf8').trim()).toBe('3');
      expect(readFileSync(join(outDir, 'console.log'), 'utf8')).toContain('node-started');
      const jobStart = Number(/job-start (\d+\.\d+)/.exec(result.console)?.[1]);
      console.log(
        `accel ${result.accel.kind}: boot to /init ${result.seconds.boot} s, node first start ${(Number(facts.startedAt) - jobStart).toFixed(2)} s, ` +
          `job ${result.seconds.run} s, total ${result.seconds.total} s`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a job that outlives its timeout kills the VM and reports timedOut', async () => {
    const outDir = join(work, 'timeout-job');
    const result = await runInGuest(kernel, { argv: ['/bin/sleep', '600'], cwd: '/', outDir, timeoutSeconds: 2 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.kernelPanic).toBe(false);
    expect(result.seconds.run).toBeGreaterThanOrEqual(2);
    expect(result.seconds.run).toBeLessThan(10);
    expect(liveGuests()).toBe(0);
    expect(qemuWith(outDir)).toEqual([]);
  });

  test('a kernel panic in the guest is reported with the console excerpt', async () => {
    const outDir = join(work, 'panic-job');
    const result = await runInGuest(kernel, {
      argv: ['/bin/sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 30'],
      cwd: '/',
      outDir,
      timeoutSeconds: 30,
    });
    expect(result.kernelPanic).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.timedOut).toBe(false);
    expect(result.panicExcerpt).toContain('sysrq: Trigger a crash');
    expect(result.panicExcerpt).toContain('Kernel panic - not syncing: sysrq triggered crash');
    expect(result.seconds.total).toBeLessThan(25);
    expect(qemuWith(outDir)).toEqual([]);
  });

  test('an abort kills the VM, rejects with the reason and removes the control files', async () => {
    const outDir = join(work, 'abort-job');
    const controller = new AbortController();
    let seen = '';
    // A private temp dir: other test files boot VMs at the same time, with their own control dirs.
    const privateTmp = join(work, 'abort-tmp');
    mkdirSync(privateTmp, { recursive: true });
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    const run = runInGuest(
      kernel,
      { argv: ['/bin/sh', '-c', 'echo job-running; sleep 600'], cwd: '/', outDir, timeoutSeconds: 30 },
      {
        signal: controller.signal,
        onConsole: (t) => {
          seen += t;
          if (/^job-running\r?$/m.test(seen)) controller.abort(new Error('cancelled by the test'));
        },
      },
    );
    try {
      await expect(run).rejects.toThrow('cancelled by the test');
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    expect(qemuWith(outDir)).toEqual([]);
    expect(readdirSync(privateTmp)).toEqual([]);
  });

  test('SIGTERM to an entry point that cancels on signals ends QEMU and removes the control files', async () => {
    const outDir = join(work, 'sigterm-job');
    const entry = join(work, 'runner.ts');
    const bundle = join(work, 'runner.mjs');
    writeFileSync(
      entry,
      `import { runInGuest } from ${JSON.stringify(join(import.meta.dirname, '../../src/lab/run-in-guest.ts'))};
import { cancelOnSignals } from ${JSON.stringify(join(import.meta.dirname, '../../src/run/cancellation.ts'))};
const kernel = JSON.parse(process.argv[2]);
const { signal } = cancelOnSignals();
await runInGuest(kernel, { argv: ['/bin/sh', '-c', 'echo job-running; sleep 600'], cwd: '/', outDir: process.argv[3], timeoutSeconds: 30 },
  { signal, onConsole: (t) => process.stdout.write(t) }).catch((e) => { console.error(e.message); process.exit(143); });
`,
    );
    await build({ entryPoints: [entry], outfile: bundle, bundle: true, platform: 'node', format: 'esm', logLevel: 'error' });
    const privateTmp = join(work, 'sigterm-tmp');
    mkdirSync(privateTmp, { recursive: true });
    const child = spawn(process.execPath, [bundle, JSON.stringify(kernel), outDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TMPDIR: privateTmp },
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('close', (code, sig) => resolve(sig ?? code)));
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        seen += b.toString();
        if (/^job-running\r?$/m.test(seen)) resolve();
      });
      child.on('close', () => reject(new Error('runner ended before the job started')));
    });
    expect(qemuWith(outDir)).toHaveLength(1);
    child.kill('SIGTERM');
    // The entry point's cancellation aborts the run: QEMU is ended before the process exits.
    expect(await exited).toBe(143);
    // QEMU receives SIGKILL; give the kernel a moment to reap it.
    for (let i = 0; i < 20 && qemuWith(outDir).length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(qemuWith(outDir)).toEqual([]);
    expect(readdirSync(privateTmp)).toEqual([]);
  });

  test('vm-nics: two emulated 82576 (igb) ports at the planned addresses, bound to uio_pci_generic for a run and given back after', async () => {
    const nics = { model: 'igb', count: 2 } as const;
    const found = chooseQemu(NIC_MODELS.igb.minQemu, await systemQemuVersion(spawnRunner), readLabQemu(labDirOf(kernel)));
    if ('problem' in found) throw new Error(`${found.problem}: run sudo node dist/cli.js lab setup --qemu (scripts/test.sh does)`);
    const outDir = join(work, 'nics-job');
    const dir = join(work, 'nics-bundle');
    mkdirSync(dir, { recursive: true });
    const entry = join(dir, 'entry.ts');
    // The kernel side's own binding and undo, as a run does them on the target.
    writeFileSync(
      entry,
      `import { readdirSync, readFileSync, readlinkSync, existsSync, writeFileSync } from 'node:fs';
import { bindNics } from ${JSON.stringify(join(ROOT, 'src/kernel-side/nic-binding.ts'))};
import { UndoLog, undoStepsReporting } from ${JSON.stringify(join(ROOT, 'src/kernel-side/undo.ts'))};
import { machineUndo } from ${JSON.stringify(join(ROOT, 'src/kernel-side/undo-executor.ts'))};
const out = process.argv[2];
const snapshot = () => Object.fromEntries(readdirSync('/sys/bus/pci/devices')
  .filter((d) => readFileSync('/sys/bus/pci/devices/' + d + '/vendor', 'utf8').trim() + ':' + readFileSync('/sys/bus/pci/devices/' + d + '/device', 'utf8').trim() === '0x8086:0x10c9')
  .map((d) => [d, existsSync('/sys/bus/pci/devices/' + d + '/driver') ? readlinkSync('/sys/bus/pci/devices/' + d + '/driver').split('/').pop() : null]));
const modules = () => readFileSync('/proc/modules', 'utf8').split('\\n').map((l) => l.split(' ')[0]).filter((m) => m === 'uio' || m === 'uio_pci_generic').sort();
const before = snapshot();
const undo = new UndoLog(out + '/undo.json', 'nics');
const notes = await bindNics({ addresses: Object.keys(before), driver: 'uio_pci_generic', load: ['uio', 'uio_pci_generic'] }, undo);
const bound = snapshot();
const loaded = modules();
const r = await undoStepsReporting([...undo.pending], machineUndo);
writeFileSync(out + '/nics.json', JSON.stringify({ before, notes, bound, loaded, problems: r.problems, after: snapshot(), afterModules: modules() }));
`,
    );
    await build({ entryPoints: [entry], outfile: join(dir, 'nics.mjs'), bundle: true, platform: 'node', format: 'esm', logLevel: 'error' });
    const r = await runInGuest(
      kernel,
      { argv: [process.execPath, join(dir, 'nics.mjs'), outDir], cwd: '/', outDir, shares: [dir, installPrefix(process.execPath)], timeoutSeconds: 90 },
      { nics, qemu: found.qemu },
    );
    expect(r.exitCode).toBe(0);
    const seen = JSON.parse(readFileSync(join(outDir, 'nics.json'), 'utf8'));
    const addresses = nicAddresses(nics);
    expect(seen.before).toEqual(Object.fromEntries(addresses.map((a) => [a, null])));
    expect(seen.bound).toEqual(Object.fromEntries(addresses.map((a) => [a, 'uio_pci_generic'])));
    expect(seen.loaded).toEqual(['uio', 'uio_pci_generic']);
    expect(seen.notes).toEqual(['loaded uio, uio_pci_generic for the NICs (unloaded after)', ...addresses.map((a) => `bound ${a} to uio_pci_generic`)]);
    expect(seen.problems).toEqual([]);
    expect(seen.after).toEqual(seen.before);
    expect(seen.afterModules).toEqual([]);
  });

  test('a QEMU that cannot start fails clearly, control files removed', async () => {
    const outDir = join(work, 'noqemu-job');
    const before = new Set(execFileSync('ls', [tmpdir()], { encoding: 'utf8' }).split('\n'));
    const error = await runInGuest(
      kernel,
      { argv: ['/bin/true'], cwd: '/', outDir, timeoutSeconds: 10 },
      { qemu: { binary: '/nonexistent/qemu', dataDirs: [], env: {} } },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestError);
    expect((error as GuestError).message).toMatch(/before reaching \/init: .*\/nonexistent\/qemu/);
    const after = execFileSync('ls', [tmpdir()], { encoding: 'utf8' }).split('\n');
    expect(after.filter((f) => f.startsWith('alloc-balance-vm-') && !before.has(f))).toEqual([]);
    expect(liveGuests()).toBe(0);
  });

  test('a kernel that panics before /init fails clearly, with the panic', async () => {
    const outDir = join(work, 'noinit-job');
    const bogus = { ...kernel, initrd: join(work, 'empty.cpio') };
    writeFileSync(bogus.initrd, '');
    const error = await runInGuest(bogus, { argv: ['/bin/true'], cwd: '/', outDir, timeoutSeconds: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestError);
    expect((error as GuestError).message).toMatch(/kernel panicked before reaching \/init: .*Unable to mount root fs/);
    expect(qemuWith(outDir)).toEqual([]);
  });

  test('a guest that never reaches the job is killed at the boot timeout', async () => {
    const outDir = join(work, 'hang-job');
    // An initramfs whose /init hangs: the lab's marker never comes.
    const hanging = { ...kernel, initrd: join(work, 'hang.cpio') };
    writeCpio(hanging.initrd, [
      { kind: 'dir', path: 'bin' },
      { kind: 'dir', path: 'dev' },
      { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      fileEntry('bin/busybox', '/bin/busybox', 0o755),
      { kind: 'file', path: 'init', data: Buffer.from('#!/bin/busybox sh\n/bin/busybox sleep 600\n'), mode: 0o755 },
    ]);
    const t0 = performance.now();
    const error = await runInGuest(hanging, { argv: ['/bin/true'], cwd: '/', outDir, timeoutSeconds: 10 }, { bootTimeoutSeconds: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestError);
    expect((error as GuestError).message).toContain('did not reach /init within 5 s');
    expect(performance.now() - t0).toBeLessThan(9000);
    expect(qemuWith(outDir)).toEqual([]);
  });
});
