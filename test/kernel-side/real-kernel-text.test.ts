// The target runner's pure parts on real kernel text: the job file, tracked-name checks against
// a real available_filter_functions, splats in a real oops, /dev/kmsg records, /proc stat lines.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeUnknownNames, editDistance, findUnknownNames } from '../../src/kernel-side/function-names.js';
import { parseTargetJob } from '../../src/kernel-side/job.js';
import { formatKmsg, kmsgMark, parseKmsgRecord, readKmsg } from '../../src/kernel-side/kmsg.js';
import { modulesListHas, splitModuleArgs } from '../../src/kernel-side/kernel-module.js';
import { parseProcStat } from '../../src/process/group.js';
import { hugetlbfsMounts } from '../../src/kernel-side/hugepages.js';
import { findSplats } from '../../src/kernel-side/splats.js';
import { symbolRanges } from '../../src/kernel-side/kernel-module.js';
import { kmemEventNames, kprobeDefinitions, kretprobeMaxactive, traceablePairs } from '../../src/kernel-side/trace-setup.js';

const DATA = join(import.meta.dirname, '..', 'data', 'target');
const data = (f: string) => readFileSync(join(DATA, f), 'utf8');

const MINIMAL = {
  module: { path: '/tmp/m/kni_like.ko', name: 'kni-like' },
  workload: { command: './kni_like_app -n 2' },
  cycles: 3,
  track: [{ alloc: 'alloc_netdev_mqs', free: 'free_netdev' }],
  outDir: '/tmp/out',
  runId: 'r1',
};

describe('parseTargetJob', () => {
  test('fills the defaults and normalizes the module name', () => {
    const job = parseTargetJob(JSON.stringify(MINIMAL), 'job.json');
    expect(job).toEqual({
      module: { path: '/tmp/m/kni_like.ko', name: 'kni_like', args: '' },
      workload: {
        command: './kni_like_app -n 2',
        readyPattern: '',
        readyCommand: '',
        readyDelaySeconds: 1,
        readyTimeoutSeconds: 60,
        holdSeconds: 1,
        stopSignal: 'SIGTERM',
        graceSeconds: 10,
        cwd: '',
        env: {},
      },
      cycles: 3,
      track: [{ alloc: 'alloc_netdev_mqs', free: 'free_netdev' }],
      traceBufferKb: 8192,
      stacks: true,
      outDir: '/tmp/out',
      runId: 'r1',
    });
  });

  test.each([
    [{ ...MINIMAL, module: { name: 'x' } }, 'job job.json: module.path: missing; expected a string'],
    [
      { ...MINIMAL, workload: { command: 'x', stopSignal: 'SIGFOO' } },
      'job job.json: workload.stopSignal: "SIGFOO" is not valid; expected one of SIGINT, SIGTERM',
    ],
    [
      { ...MINIMAL, workload: { command: 'x', readyPattern: '(' } },
      'job job.json: workload.readyPattern: "(" is not valid; expected a valid regular expression',
    ],
    // The workload's fields are held to their inputs' limits (inputs/table.ts).
    [{ ...MINIMAL, workload: { command: 'x', graceSeconds: 601 } }, 'job job.json: workload.graceSeconds: 601 is not valid; expected a number from 0 to 600'],
    [{ ...MINIMAL, runId: 'a/b' }, 'job job.json: runId: "a/b" is not valid; expected letters, digits and _ (at most 24)'],
    [{ ...MINIMAL, cycles: 0 }, 'job job.json: cycles: 0 is not valid; expected a whole number from 1 to 1000'],
    [{ ...MINIMAL, track: [] }, 'job job.json: track: [] is not valid; expected a non-empty list of {alloc, free}'],
    [{ ...MINIMAL, track: [{ alloc: 'a b', free: 'f' }] }, 'job job.json: track[0].alloc: "a b" is not valid; expected a kernel function name'],
    // The workload and the background command are read by the same rules.
    [{ ...MINIMAL, workload: { command: ' ' } }, 'job job.json: workload.command: " " is not valid; expected a shell command'],
    [{ ...MINIMAL, background: { command: ' ' } }, 'job job.json: background.command: " " is not valid; expected a shell command'],
    [{ ...MINIMAL, workload: { command: 'x', env: { A: 1 } } }, 'job job.json: workload.env.A: 1 is not valid; expected a string'],
    [{ ...MINIMAL, background: { command: 'x', env: { B: true } } }, 'job job.json: background.env.B: true is not valid; expected a string'],
    [
      { ...MINIMAL, background: { command: 'x', stopSignal: 'sigfoo' } },
      'job job.json: background.stopSignal: "sigfoo" is not valid; expected one of SIGINT, SIGTERM',
    ],
    [
      { ...MINIMAL, sweep: { helperPath: '/h.ko', symbolsFile: '/m.nm', allocators: ['kmalloc', 'a b'] } },
      'job job.json: sweep.allocators: ["kmalloc","a b"] is not valid; expected a list of kernel function names',
    ],
  ])('refuses a bad field with its name and what it accepts (%#)', (job, message) => {
    expect(() => parseTargetJob(JSON.stringify(job), 'job.json')).toThrow(message);
  });

  test('a background command and a sweep as the launcher writes them', () => {
    const job = parseTargetJob(
      JSON.stringify({
        ...MINIMAL,
        background: { command: 'ping -f 10.0.0.1', env: { A: '1' }, stopSignal: 'sigint' },
        sweep: { helperPath: '/h.ko', symbolsFile: '/m.nm', allocators: ['kmalloc'], bound: 'all' },
      }),
      'job.json',
    );
    expect(job.background).toEqual({ command: 'ping -f 10.0.0.1', cwd: '', env: { A: '1' }, settleSeconds: 1, stopSignal: 'SIGINT', graceSeconds: 10 });
    expect(job.sweep).toEqual({ helperPath: '/h.ko', symbolsFile: '/m.nm', allocators: ['kmalloc'], bound: 'all' });
  });

  test('NICs to bind: addresses, driver and modules as the launcher writes them; a bad address is refused', () => {
    const nics = { addresses: ['0000:00:03.0'], driver: 'igb_uio', load: ['/lab/uio.ko', 'uio_pci_generic'] };
    expect(parseTargetJob(JSON.stringify({ ...MINIMAL, nics }), 'job.json').nics).toEqual(nics);
    expect(() => parseTargetJob(JSON.stringify({ ...MINIMAL, nics: { ...nics, addresses: ['00:03.0; reboot'] } }), 'job.json')).toThrow(/nics\.addresses/);
    expect(() => parseTargetJob(JSON.stringify({ ...MINIMAL, nics: { ...nics, driver: '../x' } }), 'job.json')).toThrow(/nics\.driver/);
  });

  test('refuses text that is not JSON', () => {
    expect(() => parseTargetJob('{cycles: 3', 'job.json')).toThrow(/^job job\.json is not valid JSON/);
  });
});

describe('tracked names against a real available_filter_functions (recorded on a Debian 12 6.1 kernel)', () => {
  const functions = data('available_filter_functions.netdev-excerpt.txt');
  const blacklist = data('kprobes-blacklist.excerpt.txt');

  test('known names pass', () => {
    expect(
      findUnknownNames(
        [
          { alloc: 'alloc_netdev_mqs', free: 'free_netdev' },
          { alloc: 'kmalloc', free: 'kfree' },
        ],
        functions,
        blacklist,
      ),
    ).toEqual([]);
  });

  test('a misspelt name is refused with the closest traceable names', () => {
    const unknown = findUnknownNames([{ alloc: 'alloc_netdev_mq', free: 'free_netdevs' }], functions, blacklist);
    expect(unknown.map((u) => [u.name, u.role, u.closeMatches[0]])).toEqual([
      ['alloc_netdev_mq', 'alloc', 'alloc_netdev_mqs'],
      ['free_netdevs', 'free', 'free_netdev'],
    ]);
    expect(describeUnknownNames(unknown)).toMatch(
      new RegExp(
        /^"alloc_netdev_mq" \(alloc\) is not a traceable kernel function on this kernel: did you mean alloc_netdev_mqs, .*\?; /.source +
          /"free_netdevs" \(free\) is not a traceable kernel function on this kernel: did you mean free_netdev\b/.source,
      ),
    );
  });

  test('a prefix of a real name is not taken for it', () => {
    expect(findUnknownNames([{ alloc: 'alloc_netdev', free: 'free_netdev' }], functions)[0]).toMatchObject({
      name: 'alloc_netdev',
      closeMatches: expect.arrayContaining(['alloc_netdev_mqs']),
    });
  });

  test('a blacklisted function is refused for kprobes', () => {
    const name = blacklist.split('\n')[0].split('\t')[1];
    const unknown = findUnknownNames([{ alloc: 'alloc_netdev_mqs', free: name }], `${functions}${name}\n`, blacklist);
    expect(unknown).toHaveLength(1);
    expect(describeUnknownNames(unknown)).toContain(`"${name}" (free) cannot be probed (kprobe blacklist)`);
  });

  test('edit distance', () => {
    expect(editDistance('free_netdev', 'free_netdevs')).toBe(1);
    expect(editDistance('kfree', 'kmalloc')).toBe(6);
    expect(editDistance('abc', 'abcdefgh', 2)).toBe(3);
  });
});

describe('kprobe definitions', () => {
  test('a return probe on each allocator and an entry probe on each releaser; kmem pairs need none', () => {
    expect(
      kprobeDefinitions(
        [
          { alloc: 'alloc_netdev_mqs', free: 'free_netdev' },
          { alloc: 'kmalloc', free: 'kfree' },
          { alloc: 'kthread_create_on_node', free: 'kthread_stop' },
        ],
        'abr1',
        false,
        128,
      ),
    ).toEqual([
      { event: 'abr1/a0', line: 'r128:abr1/a0 alloc_netdev_mqs ret=$retval:x64' },
      { event: 'abr1/f0', line: 'p:abr1/f0 free_netdev ptr=%di:x64' },
      { event: 'abr1/a2', line: 'r128:abr1/a2 kthread_create_on_node ret=$retval:x64' },
      { event: 'abr1/f2', line: 'p:abr1/f2 kthread_stop ptr=%di:x64' },
    ]);
  });

  test("kretprobe instances grow with the CPUs, within the kernel's limit", () => {
    expect([1, 2, 16, 64, 128].map((n) => kretprobeMaxactive(n))).toEqual([128, 128, 1024, 4096, 4096]);
  });

  test('a kmem pair also traces kvfree_call_rcu (head and offset) when the kernel has it', () => {
    expect(kprobeDefinitions([{ alloc: 'kmalloc', free: 'kfree' }], 'abr2', true)).toEqual([
      { event: 'abr2/rcu', line: 'p:abr2/rcu kvfree_call_rcu head=%di:x64 func=%si:x64' },
    ]);
    expect(kprobeDefinitions([{ alloc: 'kmalloc', free: 'kfree' }], 'abr2', false)).toEqual([]);
    expect(kprobeDefinitions([{ alloc: 'alloc_netdev_mqs', free: 'free_netdev' }], 'abr2', true).map((d) => d.event)).toEqual(['abr2/a0', 'abr2/f0']);
  });
});

describe('findSplats', () => {
  test('a real NULL dereference in module init: BUG with the report up to its end', () => {
    const splats = findSplats(data('oops-console.txt'));
    expect(splats[0].kind).toBe('BUG');
    const lines = splats[0].excerpt.split('\n');
    // The line before the report is the module's last message.
    expect(lines.slice(0, 2)).toEqual([
      '[   14.399119] kni_like: oops_on_load set, dereferencing NULL',
      '[   14.399922] BUG: kernel NULL pointer dereference, address: 0000000000000000',
    ]);
    expect(splats[0].excerpt).toContain('RIP: 0010:kni_like_init+0x2c/0x1000 [kni_like]');
    expect(lines.length).toBeLessThanOrEqual(30);
    expect(splats.map((s) => s.kind)).toContain('kernel panic');
  });

  test.each([
    ['[  5.1] WARNING: CPU: 1 PID: 99 at net/core/dev.c:10541 free_netdev+0x1a/0x1b0', 'WARNING'],
    ['[ 61.0] rcu: INFO: rcu_preempt self-detected stall on CPU', 'RCU stall'],
    ['[242.0] INFO: task kworker/0:1:12 blocked for more than 120 seconds.', 'hung task'],
    ['[  3.2] general protection fault, probably for non-canonical address 0xdead000000000100', 'general protection fault'],
    ['[  3.2] BUG: KASAN: use-after-free in kni_like_dev_remove+0x12/0x40 [kni_like]', 'BUG'],
  ])('%s -> %s', (line, kind) => {
    expect(findSplats(`[  1.0] kni_like: loading out-of-tree module taints kernel.\n${line}\n[  9.9] later\n`)[0].kind).toBe(kind);
  });

  test('ordinary module messages are not splats', () => {
    expect(
      findSplats(
        '[    3.565782] kni_like: loading out-of-tree module taints kernel.\n[    3.566012] kni_like: module ' +
          'verification failed: signature and/or required key missing - tainting kernel\n',
      ),
    ).toEqual([]);
  });
});

describe('/dev/kmsg', () => {
  test('parses a record with its dictionary lines', () => {
    const r = parseKmsgRecord('4,339,5140900,-;kni_like: oops_on_load set\n SUBSYSTEM=misc\n DEVICE=c10:125\n');
    expect(r).toEqual({ seq: 339, usec: 5140900, level: 4, text: 'kni_like: oops_on_load set' });
    expect(formatKmsg(r!)).toBe('[    5.140900] kni_like: oops_on_load set');
  });

  test("reads this machine's kernel log: records in order, a mark that later reads start after", () => {
    const all = readKmsg();
    expect(all.length).toBeGreaterThan(0);
    for (let i = 1; i < all.length; i++) expect(all[i].seq).toBeGreaterThan(all[i - 1].seq);
    const mark = kmsgMark();
    expect(mark).toBe(all.at(-1)!.seq);
    expect(readKmsg(mark)).toEqual([]);
  });
});

describe('process and module lists', () => {
  test('/proc/PID/stat with spaces and parentheses in comm', () => {
    expect(parseProcStat('4242 (kni (like) app) S 1 4240 4240 0 -1 4194560')).toEqual({ pid: 4242, comm: 'kni (like) app', state: 'S', pgid: 4240 });
    const self = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(self?.pid).toBeGreaterThan(0);
  });

  test('/proc/modules lookup is by exact name', () => {
    const text = 'kni_like 20480 0 - Live 0xffffffffc0232000 (OE)\n9pnet_virtio 20480 2 - Live 0xffffffffc025b000\n';
    expect(modulesListHas(text, 'kni_like')).toBe(true);
    expect(modulesListHas(text, 'kni')).toBe(false);
  });

  test('module arguments split like a shell would', () => {
    expect(splitModuleArgs('kthread_mode=single carrier=on name="a b"')).toEqual(['kthread_mode=single', 'carrier=on', 'name=a b']);
    expect(splitModuleArgs('')).toEqual([]);
  });
});

describe('hugetlbfs mounts in /proc/mounts', () => {
  // As a Debian 12 guest shows them: systemd's /dev/hugepages, a 1 GiB mount, and an escaped space.
  const mounts = [
    'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0',
    'hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0',
    'nodev /mnt/huge1g hugetlbfs rw,relatime,pagesize=1024M 0 0',
    'nodev /run/alloc-balance/huge\\040pages hugetlbfs rw,relatime,pagesize=2M 0 0',
    'tmpfs /run tmpfs rw,nosuid,nodev,size=200000k,mode=755 0 0',
    '',
  ].join('\n');

  test('2 MiB mounts are found, 1 GiB ones and other file systems are not', () => {
    expect(hugetlbfsMounts(mounts)).toEqual(['/dev/hugepages', '/run/alloc-balance/huge pages']);
    expect(hugetlbfsMounts('proc /proc proc rw 0 0\n')).toEqual([]);
  });
});

describe('kprobe definitions for allocator families', () => {
  test("each allocator and releaser of a family gets its own probe; the releaser's object is read at its argument", () => {
    expect(
      kprobeDefinitions(
        [
          { alloc: 'kmem_cache_alloc', free: 'kfree', moreAllocs: ['kasprintf'], moreFrees: ['kmem_cache_free', 'kvfree'], auto: true },
          { alloc: 'dma_alloc_attrs', free: 'dma_free_attrs', auto: true },
          { alloc: 'request_threaded_irq', free: 'free_irq', auto: true },
        ],
        'abr3',
        true,
        128,
      ),
    ).toEqual([
      { event: 'abr3/a0_1', line: 'r128:abr3/a0_1 kasprintf ret=$retval:x64' },
      { event: 'abr3/f0_2', line: 'p:abr3/f0_2 kvfree ptr=%di:x64' },
      { event: 'abr3/a1', line: 'r128:abr3/a1 dma_alloc_attrs ret=$retval:x64' },
      { event: 'abr3/f1', line: 'p:abr3/f1 dma_free_attrs ptr=%dx:x64' },
      { event: 'abr3/rcu', line: 'p:abr3/rcu kvfree_call_rcu head=%di:x64 func=%si:x64' },
    ]);
  });

  test('an explicit kmem_cache pair is traced by its tracepoints, not by probes on the hot allocator', () => {
    expect(kprobeDefinitions([{ alloc: 'kmem_cache_alloc', free: 'kmem_cache_free' }], 'abr4', false)).toEqual([]);
    expect(kmemEventNames([{ alloc: 'kmem_cache_alloc', free: 'kmem_cache_free' }])).toEqual(['kmem_cache_alloc', 'kmem_cache_alloc_node', 'kmem_cache_free']);
  });

  test('names the kernel cannot trace leave a found family with a note; a pair the user named is kept as it is', () => {
    const canTrace = (fn: string) => fn !== 'kvmalloc_node' && fn !== 'ioremap';
    expect(
      traceablePairs(
        [
          { alloc: 'kmalloc', free: 'kfree', moreAllocs: ['kvmalloc_node'], moreFrees: ['kvfree'], auto: true },
          { alloc: 'ioremap', free: 'iounmap', auto: true },
          { alloc: 'ioremap', free: 'iounmap' },
        ],
        canTrace,
      ),
    ).toEqual({
      track: [
        { alloc: 'kmalloc', free: 'kfree', moreFrees: ['kvfree'], auto: true },
        { alloc: 'ioremap', free: 'iounmap' },
      ],
      notes: [
        'track auto: kvmalloc_node cannot be probed on this kernel: its allocations are attributed by their stack',
        'track auto: ioremap:iounmap is not traced: this kernel cannot trace ioremap; its objects are not counted',
      ],
      stackAttributed: ['kvmalloc_node'],
    });
  });
});

describe('symbolRanges', () => {
  test('a function runs from its address to the next symbol; zeroed addresses (kptr_restrict) give nothing', () => {
    const kallsyms = 'ffffffff81ba7a50 T __pfx_kasprintf\nffffffff81ba7a60 T kasprintf\nffffffff81ba7ae0 T __pfx_kvasprintf_const\n';
    expect(symbolRanges(kallsyms, ['kasprintf', 'kvasprintf'])).toEqual([{ name: 'kasprintf', start: 0xffffffff81ba7a60n, end: 0xffffffff81ba7ae0n }]);
    expect(symbolRanges('0000000000000000 T kasprintf\n0000000000000000 T next\n', ['kasprintf'])).toEqual([]);
  });
});
