// What PR code is shown of this machine: the system view, the bubblewrap command line of a build,
// and a real sandboxed build step that tries to look around.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { scrubGuestOutput } from '../../src/lab/guest-output.js';
import { guestRoot } from '../../src/lab/run-in-guest.js';
import { runBuildPlan } from '../../src/module-build/build-plan.js';
import { bwrapArgs, findSandboxLauncher, sandboxWrapper } from '../../src/sandbox/build-sandbox.js';
import { distinctFolders, type FsProbe, systemView } from '../../src/sandbox/system-view.js';
import { useTempDir } from '../support/temp-dir.js';

const scratch = useTempDir('ab-sandbox-');

/** A made-up machine: merged /usr on Debian, or split folders on an older system. */
function fakeFs(entries: Record<string, 'dir' | 'file' | string>): FsProbe {
  return {
    kind: (p) => {
      const e = entries[p];
      if (e === undefined) return 'none';
      return e === 'dir' || e === 'file' ? e : 'link';
    },
    readlink: (p) => entries[p],
    list: (d) =>
      Object.keys(entries)
        .filter((p) => p.startsWith(`${d}/`) && !p.slice(d.length + 1).includes('/'))
        .map((p) => p.slice(d.length + 1)),
  };
}

describe('the system view', () => {
  test('merged /usr: /usr shared, the top-level links recreated, only allow-listed /etc entries', () => {
    const view = systemView(
      fakeFs({
        '/bin': 'usr/bin',
        '/lib': 'usr/lib',
        '/lib64': 'usr/lib64',
        '/etc/passwd': 'file',
        '/etc/shadow': 'file',
        '/etc/ssh': 'dir',
        '/etc/python3.11': 'dir',
        '/etc/ld.so.cache': 'file',
        '/etc/alternatives': 'dir',
      }),
    );
    expect(view.folders).toEqual(['/usr']);
    expect(view.links).toEqual([
      { path: '/bin', target: 'usr/bin' },
      { path: '/lib', target: 'usr/lib' },
      { path: '/lib64', target: 'usr/lib64' },
    ]);
    expect(view.etc.sort()).toEqual(['/etc/alternatives', '/etc/ld.so.cache', '/etc/passwd', '/etc/python3.11']);
  });

  test('split /usr: the top-level folders are shared as they are', () => {
    const view = systemView(fakeFs({ '/bin': 'dir', '/sbin': 'dir', '/lib': 'dir' }));
    expect(view.folders).toEqual(['/usr', '/bin', '/sbin', '/lib']);
    expect(view.links).toEqual([]);
  });

  test('folders are shown once: inside another one or inside the system they are dropped; / is refused', () => {
    const a = join(scratch, 'a');
    mkdirSync(join(a, 'b'), { recursive: true });
    expect(distinctFolders([join(a, 'b'), a, '/usr/lib', join(scratch, 'missing')], ['/usr'])).toEqual([a]);
    expect(() => distinctFolders(['/'])).toThrow(/whole host root/);
  });

  test("the guest's root: the system, the job's folders and the lab's modules, never what lies in the out folder", () => {
    const tree = join(scratch, 'tree');
    const out = join(scratch, 'out');
    mkdirSync(join(out, 'inner'), { recursive: true });
    mkdirSync(tree, { recursive: true });
    const view = { folders: ['/usr'], links: [{ path: '/bin', target: 'usr/bin' }], etc: [] };
    const root = guestRoot(view, { shares: [tree, join(out, 'inner'), '/usr/bin'], outDir: out });
    expect(root.shares).toEqual(['/usr', tree]);
    expect(root.links).toEqual(view.links);
  });
});

describe('the build sandbox', () => {
  const view = { folders: ['/usr'], links: [{ path: '/bin', target: 'usr/bin' }], etc: ['/etc/passwd'] };

  test('bubblewrap arguments: new namespaces, the system read-only, the side writable, a clean environment', () => {
    const tree = join(scratch, 'side');
    mkdirSync(tree, { recursive: true });
    const args = bwrapArgs(['make'], tree, { KDIR: '/k' }, { writable: [tree], readable: ['/usr/src/x'] }, view, {
      bwrap: 'bwrap',
      sudo: false,
      uid: 1000,
      gid: 1000,
    });
    expect(args.slice(0, 4)).toEqual(['--unshare-all', '--die-with-parent', '--new-session', '--clearenv']);
    // As root: no user namespace (the kernel refuses one to a chrooted caller), every capability dropped instead.
    const asRoot = bwrapArgs(['make'], tree, {}, { writable: [tree], readable: [] }, view, { bwrap: 'bwrap', sudo: false, uid: 0, gid: 0 });
    expect(asRoot.slice(0, 8)).toEqual([
      '--unshare-ipc',
      '--unshare-pid',
      '--unshare-net',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--cap-drop',
      'ALL',
      '--die-with-parent',
    ]);
    expect(args.join(' ')).toContain('--ro-bind /usr /usr --symlink usr/bin /bin --ro-bind /etc/passwd /etc/passwd');
    expect(args.join(' ')).toContain(`--bind ${tree} ${tree}`);
    // /usr/src/x lies inside /usr: no second bind
    expect(args.filter((a) => a === '/usr/src/x')).toEqual([]);
    expect(args.join(' ')).toContain('--setenv KDIR /k');
    expect(args.join(' ')).toContain('--setenv HOME /tmp');
    expect(args.slice(-4)).toEqual(['--chdir', tree, '--', 'make']);
  });

  test('through sudo the build drops to the calling user inside', () => {
    const args = bwrapArgs(['make'], '/w', {}, { writable: [], readable: [] }, view, { bwrap: 'bwrap', sudo: true, uid: 1001, gid: 118 });
    expect(args.slice(-6)).toEqual(['/usr/bin/setpriv', '--reuid=1001', '--regid=118', '--clear-groups', '--', 'make']);
  });

  test('a real sandboxed step sees its folder and the system, and nothing else: no /root, no other /tmp files, no network, no environment', async () => {
    const secret = join(scratch, 'secret.txt');
    writeFileSync(secret, 'planted');
    const side = join(scratch, 'real-side');
    mkdirSync(side, { recursive: true });
    process.env.AB_SANDBOX_PLANTED = 'planted-env';
    const wrap = sandboxWrapper({ writable: [side], readable: [] }, findSandboxLauncher());
    const probe = [
      `cat ${secret} 2>&1`,
      'ls /root 2>&1 | head -1',
      'env',
      'python3 -c "import socket; socket.create_connection((\\"1.1.1.1\\", 53), 2)" 2>&1 | tail -n 1',
      'echo written > ./inside.txt',
      `echo x > ${join(scratch, 'outside.txt')} 2>&1`,
    ].join('; ');
    const r = await runBuildPlan(
      { kind: 'make', description: 'probe', steps: [{ kind: 'run', argv: ['sh', '-c', probe], cwd: side }], env: {}, output: '' },
      { wrap },
    );
    delete process.env.AB_SANDBOX_PLANTED;
    expect(r.ok, r.log).toBe(true);
    expect(r.log).toMatch(/secret\.txt: No such file or directory/);
    expect(r.log).not.toContain('planted');
    expect(r.log).toMatch(/cannot access '\/root': No such file or directory/);
    expect(r.log).toMatch(/Network is unreachable/);
    expect(r.log).not.toMatch(/^(GITHUB_|ACTIONS_|INPUT_|AB_SANDBOX)/m);
    expect(existsSync(join(side, 'inside.txt'))).toBe(true);
    expect(existsSync(join(scratch, 'outside.txt'))).toBe(false);
  });

  test("a build plan's write step goes through the sandbox: a link planted in the tree cannot redirect it", async () => {
    const side = join(scratch, 'link-side');
    mkdirSync(side, { recursive: true });
    const target = join(scratch, 'victim.txt');
    symlinkSync(target, join(side, 'config.h'));
    const wrap = sandboxWrapper({ writable: [side], readable: [] }, findSandboxLauncher());
    await runBuildPlan(
      { kind: 'make', description: 'write', steps: [{ kind: 'write', path: join(side, 'config.h'), content: 'x' }], env: {}, output: '' },
      { wrap },
    );
    expect(existsSync(target)).toBe(false);
  });
  test("a build plan's write step of a large file (a compatibility-edited source, 300 KB) reaches the sandbox whole", async () => {
    const side = join(scratch, 'big-side');
    mkdirSync(side, { recursive: true });
    const wrap = sandboxWrapper({ writable: [side], readable: [] }, findSandboxLauncher());
    const content = `${'/* a line of a driver source */\n'.repeat(10_000)}int end;\n`;
    const r = await runBuildPlan(
      { kind: 'kbuild', description: 'write', steps: [{ kind: 'write', path: join(side, 'sub', 'igb_main.c'), content }], env: {}, output: '' },
      { wrap },
    );
    expect(r.ok, r.reason).toBe(true);
    expect(readFileSync(join(side, 'sub', 'igb_main.c'), 'utf8')).toBe(content);
  });
});

describe('what the guest leaves in the out folder', () => {
  test('links, FIFOs and set-ID bits are removed before the host reads it; plain files stay', () => {
    const out = join(scratch, 'guest-out');
    mkdirSync(join(out, 'pr'), { recursive: true });
    writeFileSync(join(out, 'pr', 'trace.txt'), 'trace');
    symlinkSync('/etc/shadow', join(out, 'pr', 'dmesg.txt'));
    symlinkSync('/root', join(out, 'dir-link'));
    spawnSync('mkfifo', [join(out, 'pr', 'fifo')]);
    writeFileSync(join(out, 'suid'), '');
    chmodSync(join(out, 'suid'), 0o4755);
    const changed = scrubGuestOutput(out).sort();
    expect(changed).toEqual(['dir-link (link)', 'pr/dmesg.txt (link)', 'pr/fifo (special file)', 'suid (set-ID bits)']);
    expect(readdirSync(join(out, 'pr'))).toEqual(['trace.txt']);
    expect(lstatSync(join(out, 'suid')).mode & 0o7777).toBe(0o755);
  });
});
