// When the action sets up the VM lab, how (argv, sudo), under which cache key, and what it says
// when it cannot: provisionLab with its effects recorded instead of run.
import { describe, expect, test } from 'vitest';
import { labCliArgv } from '../../src/lab/lab-cli.js';
import { asRoot, sudoRefusal } from '../../src/process/as-root.js';
import { LAB_FORMAT, labCacheKey } from '../../src/lab/lab-cache-key.js';
import type { DirCache } from '../../src/github/dir-cache.js';
import { actionLabDirs } from '../../src/lab/lab-dirs.js';
import type { LabInspection, LabManifestEntry } from '../../src/lab/lab-kernel.js';
import { chooseLab, provisionLab, provisionQemu, type ExecResult, type LabProvisionIo } from '../../src/run/provision-lab.js';
import { UsageError } from '../../src/errors.js';

const FP = 'fp0123456789abcd';
const ROOT = { uid: 0, gid: 0 };
const RUNNER = { uid: 1001, gid: 118 };

function entry(release: string, labDir: string, fingerprint = FP): LabManifestEntry {
  return {
    release,
    vmlinux: `${labDir}/${release}/vmlinux`,
    initrd: `${labDir}/${release}/initrd.cpio`,
    buildDir: `/lib/modules/${release}/build`,
    modulesDir: `${labDir}/${release}/image/lib/modules/${release}`,
    imagePackage: `linux-image-${release}`,
    imageVersion: '6.1.999-1',
    bootMode: 'pvh',
    initFingerprint: fingerprint,
    preparedAt: '2026-01-01T00:00:00Z',
    steps: [],
  };
}

interface Fake {
  io: LabProvisionIo;
  argvs: string[][];
  cacheCalls: string[];
  lines: string[];
}

/** A lab world: `labs` maps a lab dir to its kernels; `lab setup` adds the planned one; `plan` names `planned`. */
function fake(opts: {
  labs?: Record<string, LabManifestEntry[]>;
  who?: { uid: number; gid: number };
  planned?: string;
  cache?: { available: boolean; has?: string[] };
  exec?: (argv: string[]) => ExecResult | null;
}): Fake {
  const labs: Record<string, LabManifestEntry[]> = { '/tc/lab': [], ...opts.labs };
  const argvs: string[][] = [];
  const cacheCalls: string[] = [];
  const lines: string[] = [];
  const inspect = (labDir: string, release: string): LabInspection => {
    const kernels = labs[labDir] ?? [];
    const k = release ? kernels.find((e) => e.release === release) : kernels[0];
    return k ? { kernel: k } : { problem: `VM lab in ${labDir} has no kernel prepared` };
  };
  const cache: DirCache = {
    available: opts.cache?.available ?? false,
    async restore(dir, key) {
      cacheCalls.push(`restore ${dir} ${key}`);
      const hit = opts.cache?.has?.includes(key) ?? false;
      if (hit) labs[dir] = [entry(key.split('-').slice(4, -1).join('-'), dir)];
      return hit;
    },
    async save(dir, key) {
      cacheCalls.push(`save ${dir} ${key}`);
      return true;
    },
  };
  const io: LabProvisionIo = {
    labDirs: Object.keys(labs),
    nodePath: '/usr/bin/node',
    cliPath: '/a/dist/cli.js',
    who: opts.who ?? ROOT,
    fingerprint: FP,
    inspect,
    async exec(argv, onLine) {
      argvs.push(argv);
      const injected = opts.exec?.(argv);
      if (injected) return injected;
      const sub = argv[argv.indexOf('lab') + 1];
      const dir = argv[argv.indexOf('--dir') + 1];
      const kernel = argv.includes('--kernel') ? argv[argv.indexOf('--kernel') + 1] : '';
      if (sub === 'plan') return { code: 0, stdout: JSON.stringify({ release: kernel || opts.planned || '9.9.0-77-test' }), stderr: '' };
      onLine('lab: download image: 2.8 s');
      const e = entry(kernel, dir);
      labs[dir] = [...(labs[dir] ?? []).filter((k) => k.release !== kernel), e];
      return { code: 0, stdout: JSON.stringify(e), stderr: 'lab: download image: 2.8 s\n' };
    },
    cache,
    log: (l) => lines.push(l),
    warn: (l) => lines.push(`warning: ${l}`),
    group: async (name, fn) => {
      lines.push(`group ${name}`);
      return fn();
    },
  };
  return { io, argvs, cacheCalls, lines };
}

describe('the lab directories of the action', () => {
  test('ALLOC_BALANCE_LAB alone when set', () => {
    expect(actionLabDirs({ ALLOC_BALANCE_LAB: '/x/lab', GITHUB_ACTIONS: 'true', RUNNER_TOOL_CACHE: '/opt/hostedtoolcache' })).toEqual(['/x/lab']);
  });
  test('on Actions: under the runner tool cache, then the system lab', () => {
    expect(actionLabDirs({ GITHUB_ACTIONS: 'true', RUNNER_TOOL_CACHE: '/opt/hostedtoolcache' })).toEqual([
      '/opt/hostedtoolcache/alloc-balance/lab',
      '/var/cache/alloc-balance/lab',
    ]);
  });
  test('elsewhere: the system lab', () => {
    expect(actionLabDirs({ RUNNER_TOOL_CACHE: '/opt/hostedtoolcache' })).toEqual(['/var/cache/alloc-balance/lab']);
  });
});

describe('the cache key', () => {
  test('names the release, the initramfs fingerprint and the lab format', () => {
    expect(LAB_FORMAT).toBe(1);
    expect(labCacheKey('9.9.0-77-test', FP)).toBe(`alloc-balance-lab-v1.2-9.9.0-77-test-${FP}`);
  });
  test('changes with the release and with the fingerprint', () => {
    const keys = new Set([labCacheKey('9.9.0-77-test', FP), labCacheKey('9.9.0-78-test', FP), labCacheKey('9.9.0-77-test', 'other')]);
    expect(keys.size).toBe(3);
  });
});

describe('the lab set-up command', () => {
  const call = { nodePath: '/usr/bin/node', cliPath: '/a/dist/cli.js', labDir: '/tc/lab', release: '' };
  test('as root: the CLI itself', () => {
    expect(labCliArgv('setup', { ...call, release: '9.9.0-77-test', who: ROOT })).toEqual([
      '/usr/bin/node',
      '/a/dist/cli.js',
      'lab',
      'setup',
      '--dir',
      '/tc/lab',
      '--json',
      '--kernel',
      '9.9.0-77-test',
    ]);
  });
  test('not root: through sudo -n, the lab handed back to the calling user', () => {
    expect(labCliArgv('setup', { ...call, release: '9.9.0-77-test', who: RUNNER })).toEqual([
      'sudo',
      '-n',
      '/usr/bin/node',
      '/a/dist/cli.js',
      'lab',
      'setup',
      '--dir',
      '/tc/lab',
      '--json',
      '--kernel',
      '9.9.0-77-test',
      '--owner',
      '1001:118',
    ]);
    expect(labCliArgv('plan', { ...call, who: RUNNER })).toEqual([
      'sudo',
      '-n',
      '/usr/bin/node',
      '/a/dist/cli.js',
      'lab',
      'plan',
      '--dir',
      '/tc/lab',
      '--json',
    ]);
    expect(asRoot(['x'], ROOT)).toEqual(['x']);
  });
  test('a sudo that wants a password, or no sudo, is a refusal; a failing set-up is not', () => {
    expect(sudoRefusal({ stderr: 'sudo: a password is required\n' })).toBe('sudo -n refused: a password is required');
    expect(sudoRefusal({ stderr: 'runner is not in the sudoers file.  This incident will be reported.\n' })).toBe(
      'sudo -n refused: runner is not in the sudoers file',
    );
    expect(sudoRefusal({ stderr: '', spawnError: 'ENOENT' })).toBe('sudo is not installed (not found on PATH)');
    expect(sudoRefusal({ stderr: '', spawnError: 'EACCES' })).toBe('sudo is not installed (not found on PATH)');
    expect(sudoRefusal({ stderr: '', spawnError: 'EMFILE' })).toBe('sudo could not be started (EMFILE)');
    expect(sudoRefusal({ stderr: 'alloc-balance: cannot download linux-image-9.9.0-77-test\n' })).toBeNull();
  });
});

describe('chooseLab', () => {
  test('the first directory with a current kernel; otherwise a set-up in the first', () => {
    const system = { labDir: '/var/lab', inspection: { kernel: entry('9.9.0-5-test', '/var/lab') } };
    expect(chooseLab([{ labDir: '/tc/lab', inspection: { problem: 'none' } }, system], FP)).toEqual({ ready: system.inspection.kernel, labDir: '/var/lab' });
    expect(chooseLab([{ labDir: '/tc/lab', inspection: { problem: 'none here' } }], FP)).toEqual({ setupIn: '/tc/lab', reason: 'none here' });
    const stale = chooseLab([{ labDir: '/tc/lab', inspection: { kernel: entry('9.9.0-5-test', '/tc/lab', 'old') } }], FP);
    expect(stale).toEqual({ setupIn: '/tc/lab', reason: 'VM lab kernel 9.9.0-5-test in /tc/lab has an initramfs older than this version of alloc-balance' });
  });
});

describe('provisionLab', () => {
  test('a prepared lab: used as it is, no set-up, no cache', async () => {
    const f = fake({ labs: { '/tc/lab': [entry('9.9.0-77-test', '/tc/lab')] }, cache: { available: true } });
    const k = await provisionLab('', f.io);
    expect(k.release).toBe('9.9.0-77-test');
    expect(f.argvs).toEqual([]);
    expect(f.cacheCalls).toEqual([]);
    expect(f.lines).toEqual(['VM lab: kernel 9.9.0-77-test prepared in /tc/lab']);
  });

  test('a hand-prepared system lab is used when the tool-cache lab is empty', async () => {
    const f = fake({ labs: { '/tc/lab': [], '/var/cache/alloc-balance/lab': [entry('9.9.0-5-test', '/var/cache/alloc-balance/lab')] } });
    expect((await provisionLab('', f.io)).vmlinux).toBe('/var/cache/alloc-balance/lab/9.9.0-5-test/vmlinux');
    expect(f.argvs).toEqual([]);
  });

  test('no lab, root, no cache service: plan then set-up of the planned release in a "Kernel lab" group, its steps logged', async () => {
    const f = fake({ planned: '9.9.0-77-test' });
    const k = await provisionLab('', f.io);
    expect(k.vmlinux).toBe('/tc/lab/9.9.0-77-test/vmlinux');
    expect(f.argvs).toEqual([
      ['/usr/bin/node', '/a/dist/cli.js', 'lab', 'plan', '--dir', '/tc/lab', '--json'],
      ['/usr/bin/node', '/a/dist/cli.js', 'lab', 'setup', '--dir', '/tc/lab', '--json', '--kernel', '9.9.0-77-test'],
    ]);
    expect(f.lines[0]).toBe('group Kernel lab');
    expect(f.lines).toContain('Actions cache: not available here; the lab is set up without it');
    expect(f.lines).toContain('lab: download image: 2.8 s');
    expect(f.cacheCalls).toEqual([]);
  });

  test('no lab, not root: both commands through sudo -n', async () => {
    const f = fake({ who: RUNNER });
    await provisionLab('', f.io);
    expect(f.argvs.map((a) => a.slice(0, 2))).toEqual([
      ['sudo', '-n'],
      ['sudo', '-n'],
    ]);
    expect(f.argvs[1]).toContain('--owner');
  });

  test('vm-kernel given: that release is planned and set up', async () => {
    const f = fake({});
    expect((await provisionLab('9.9.0-70-test', f.io)).release).toBe('9.9.0-70-test');
    expect(f.argvs[0]).toEqual(['/usr/bin/node', '/a/dist/cli.js', 'lab', 'plan', '--dir', '/tc/lab', '--json', '--kernel', '9.9.0-70-test']);
    expect(f.argvs[1]).toContain('9.9.0-70-test');
  });

  test('a stale initramfs is set up again', async () => {
    const f = fake({ labs: { '/tc/lab': [entry('9.9.0-77-test', '/tc/lab', 'old')] }, planned: '9.9.0-77-test' });
    await provisionLab('', f.io);
    expect(f.argvs).toHaveLength(2);
  });

  test('cache miss: restore under the planned key, set up, save under it', async () => {
    const f = fake({ planned: '9.9.0-77-test', cache: { available: true } });
    await provisionLab('', f.io);
    const key = `alloc-balance-lab-v1.2-9.9.0-77-test-${FP}`;
    expect(f.cacheCalls).toEqual([`restore /tc/lab ${key}`, `save /tc/lab ${key}`]);
    expect(f.lines).toContainEqual(expect.stringMatching(new RegExp(`^Actions cache: saved ${key} \\([\\d.]+ s\\)$`)));
  });

  test('cache hit: restored, the set-up still runs (apt packages, headers) and finds it prepared; nothing saved', async () => {
    const key = `alloc-balance-lab-v1.2-9.9.0-77-test-${FP}`;
    const f = fake({ planned: '9.9.0-77-test', cache: { available: true, has: [key] } });
    await provisionLab('', f.io);
    expect(f.cacheCalls).toEqual([`restore /tc/lab ${key}`]);
    expect(f.argvs.map((a) => a[3])).toEqual(['plan', 'setup']);
    expect(f.lines).toContainEqual(expect.stringMatching(new RegExp(`^Actions cache: restored ${key} \\([\\d.]+ s\\)$`)));
  });

  test('sudo wants a password: an error naming the fixes, no cache touched', async () => {
    const f = fake({ who: RUNNER, cache: { available: true }, exec: () => ({ code: 1, stdout: '', stderr: 'sudo: a password is required\n' }) });
    const error = await provisionLab('', f.io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(
      new RegExp(
        /^target: vm sets up its kernel lab as root .* runs as uid 1001 and sudo -n refused: a password is required\. /.source +
          /Run the runner as root or allow it passwordless sudo/.source,
      ),
    );
    expect((error as Error).message).toMatch(
      new RegExp(
        /or prepare the lab once by hand where the action looks for it: /.source +
          /sudo alloc-balance lab setup --dir \/tc\/lab --owner 1001:118 \(docs\/self-hosted-runner\.md\)$/.source,
      ),
    );
    expect(f.cacheCalls).toEqual([]);
  });

  test('a failing set-up: its last line in the error, nothing saved', async () => {
    const f = fake({
      cache: { available: true },
      exec: (argv) =>
        argv.includes('setup') ? { code: 64, stdout: '', stderr: 'lab: packages: 1 s\nalloc-balance: cannot download linux-image-9.9.0-77-test\n' } : null,
    });
    await expect(provisionLab('', f.io)).rejects.toThrow('VM lab set-up failed (`lab setup`, exit 64): cannot download linux-image-9.9.0-77-test');
    expect(f.cacheCalls.filter((c) => c.startsWith('save'))).toEqual([]);
  });
});

describe('a QEMU for emulated NICs', () => {
  test("nothing to do when the runner's QEMU is new enough", async () => {
    const f = fake({});
    await provisionQemu('/tc/lab', [8, 0], [8, 2], f.io);
    expect(f.argvs).toEqual([]);
  });

  test('an older runner QEMU and none in the lab: lab setup --qemu as root, through sudo for a runner user', async () => {
    const f = fake({ who: RUNNER });
    await provisionQemu('/tc/lab', [8, 0], [7, 2], f.io);
    expect(f.argvs).toEqual([
      asRoot(['/usr/bin/node', '/a/dist/cli.js', 'lab', 'setup', '--dir', '/tc/lab', '--json', '--qemu', '--owner', '1001:118'], RUNNER),
    ]);
    expect(f.lines).toContain("QEMU 8.0 or newer is needed and this runner's QEMU is 7.2; taking one from Debian's backports into /tc/lab");
  });
});
