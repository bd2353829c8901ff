// Runs the bundled command line (built by scripts/build.mjs, as dist/cli.js) on real files.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliBundle, ROOT, runCli } from '../support/cli.js';
import { HELP } from '../../src/cli/help.js';
import { useTempDir } from '../support/temp-dir.js';

let CLI = '';
const DATA = join(ROOT, 'test', 'data');
const data = (name: string) => join(DATA, name);
const tmp = useTempDir('alloc-balance-cli-');

const cli = (args: string[], input?: string) => runCli(args, { input });

beforeAll(() => {
  CLI = cliBundle();
}, 60_000);

describe('analyze', () => {
  it('prints the table of the case', () => {
    const r = cli(['analyze', '--trace', data('case-rte-kni-before-fix.trace'), '--pair', 'alloc_netdev_mqs:free_netdev']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    // No module named: which call sites are the module's is unknown, the leak is read over all.
    expect(r.stdout).toContain(
      '  all call sites                      4      2            2\n' +
        '  module call sites: unknown (give --module NAME with --nm/--sections)\n' +
        '  leaked per cycle (all call sites): 2\n',
    );
    expect(r.stdout).not.toMatch(/module call sites +\d/);
  });

  it('--json is one AnalysisResult document', () => {
    const r = cli(['analyze', '--trace', data('case-rte-kni-before-fix.trace'), '--pair', 'alloc_netdev_mqs:free_netdev', '--json']);
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a).toMatchObject({ complete: true, lostEvents: 0, cycles: 1 });
    expect(a.pairs[0]).toMatchObject({ alloc: 'alloc_netdev_mqs', free: 'free_netdev', allocs: 4, frees: 2, outstanding: 2 });
    expect(a.pairs[0].callers.map((c: { caller: string }) => c.caller)).toEqual(['alloc_etherdev_mqs', 'kni_ioctl_create', 'kni_dev_remove']);
  });

  it('reads standard input with --trace -, several traces as one, stats and slabinfo', () => {
    const r = cli(
      ['analyze', '--trace', '-', '--pair', 'kmalloc:kfree', '--stats', data('cpu-stats.txt'), '--slabinfo', data('slabinfo-case.txt'), '--json'],
      readFileSync(data('kmem-old.trace'), 'utf8'),
    );
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    expect([a.complete, a.lostEvents]).toEqual([false, 302]);
    expect(a.slab).toEqual([{ cache: 'kmalloc-8192', before: 128016, after: 135760, delta: 7744 }]);
    const two = JSON.parse(
      cli([
        'analyze',
        '--trace',
        data('case-rte-kni-before-fix.trace'),
        '--trace',
        data('case-rte-kni-before-fix.trace'),
        '--pair',
        'alloc_netdev_mqs:free_netdev',
        '--json',
      ]).stdout,
    );
    expect(two.pairs[0].allocs).toBe(8);
  });

  it('symbolizes raw addresses with --nm and --sections', () => {
    const r = cli([
      'analyze',
      '--trace',
      data('leaky-kprobe-6.1.trace'),
      '--pair',
      'alloc_netdev_mqs:free_netdev',
      '--module',
      'leaky',
      '--nm',
      data('leaky.nm.txt'),
      '--sections',
      data('leaky.sections.json'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).pairs[0].callers.map((c: { caller: string }) => c.caller)).toEqual(['leaky_create_port+0x45', 'leaky_create+0x87']);
  });

  it.each([
    [['--trace', '/nonexistent/trace', '--pair', 'a:b'], 'alloc-balance: trace /nonexistent/trace: cannot be read (ENOENT)\n'],
    [
      ['--trace', 'test/data/not-a-trace.txt', '--pair', 'a:b'],
      'alloc-balance: trace test/data/not-a-trace.txt: no trace line in 2 line(s): expected the text of /sys/kernel/tracing/trace or trace_pipe\n',
    ],
    [
      ['--trace', 'test/data/empty.trace', '--pair', 'a:b'],
      'alloc-balance: trace test/data/empty.trace is empty: expected the text of /sys/kernel/tracing/trace or trace_pipe\n',
    ],
    [
      ['--trace', 'test/data/case-rte-kni-before-fix.trace', '--pair', 'alloc_netdev_mqs'],
      'alloc-balance: analyze: --pair "alloc_netdev_mqs" is not a pair: write ALLOC:FREE with two kernel function names, e.g. alloc_netdev_mqs:free_netdev\n',
    ],
    [
      ['--trace', 'test/data/case-rte-kni-before-fix.trace'],
      'alloc-balance: analyze: no pair given; add --pair ALLOC:FREE, e.g. --pair alloc_netdev_mqs:free_netdev\n',
    ],
    [['--pair', 'a:b'], /^alloc-balance: analyze: no trace given; usage: alloc-balance analyze --trace FILE/],
    [['--trace', 'test/data/case-rte-kni-before-fix.trace', '--pair', 'a:b', '--bogus'], /^alloc-balance: analyze: unknown option --bogus \(known: --trace, /],
    [
      ['--trace', 'test/data/case-rte-kni-before-fix.trace', '--pair', 'a:b', '--stats', 'test/data/not-a-trace.txt'],
      /^alloc-balance: stats file test\/data\/not-a-trace.txt: no "entries:"/,
    ],
    [
      [
        '--trace',
        'test/data/case-rte-kni-before-fix.trace',
        '--pair',
        'a:b',
        '--nm',
        'test/data/not-a-trace.txt',
        '--sections',
        'test/data/leaky.sections.json',
      ],
      /^alloc-balance: --nm test\/data\/not-a-trace.txt: no function symbol found/,
    ],
    [
      ['--trace', 'test/data/leaky-kprobe-6.1.trace', '--pair', 'alloc_netdev_mqs:free_netdev', '--module', 'leaky', '--nm', 'test/data/leaky.nm.txt'],
      /^alloc-balance: analyze: --nm needs --sections FILE.json too: the section addresses of the loaded module/,
    ],
    [
      [
        '--trace',
        'test/data/leaky-kprobe-6.1.trace',
        '--pair',
        'alloc_netdev_mqs:free_netdev',
        '--module',
        'leaky',
        '--sections',
        'test/data/leaky.sections.json',
      ],
      /^alloc-balance: analyze: --sections needs --nm FILE too/,
    ],
    [['--trace'], /^alloc-balance: analyze: --trace needs a value/],
    [['--trace', 'test/data/case-rte-kni-before-fix.trace', '--pair', 'a:b', 'extra'], /^alloc-balance: analyze: unexpected argument "extra"/],
  ])('bad input %j: one line on stderr, exit 64', (args, message) => {
    const r = cli(['analyze', ...args]);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    if (typeof message === 'string') expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('compare', () => {
  const analysis = (trace: string, name: string) => {
    const path = join(tmp, name);
    writeFileSync(path, cli(['analyze', '--trace', data(trace), '--pair', 'alloc_netdev_mqs:free_netdev', '--json']).stdout);
    return path;
  };

  it('exit 1 with the verdict when the PR leaks, 0 when it fixes, 2 when a trace lost events', () => {
    const leak = analysis('case-rte-kni-before-fix.trace', 'before.json');
    const fixed = analysis('case-rte-kni-after-fix.trace', 'after.json');
    const fail = cli(['compare', fixed, leak]);
    expect(fail.code).toBe(1);
    expect(fail.stdout.split('\n')[0]).toBe('❌ fail: PR leaks 2 objects/cycle on alloc_netdev_mqs:free_netdev (base 0)');
    const pass = cli(['compare', leak, fixed, '--markdown']);
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain('**✅ pass: no new leak — PR leaks 0/cycle (base 2/cycle)**');
    expect(pass.stdout).toContain('| ✅ fixed | **alloc_netdev_mqs:free_netdev** (module) | 4/2 | 4/4 | 2 → 0 | -2 |');
    const json = JSON.parse(cli(['compare', fixed, leak, '--json', '--fail-on', 'never']).stdout);
    expect([json.verdict, json.failOn]).toEqual(['pass', 'never']);

    const lostTrace = join(tmp, 'lost.trace');
    writeFileSync(lostTrace, `# entries-in-buffer/entries-written: 190/320   #P:2\n${readFileSync(data('case-rte-kni-after-fix.trace'), 'utf8')}`);
    const lost = join(tmp, 'lost.json');
    writeFileSync(lost, cli(['analyze', '--trace', lostTrace, '--pair', 'alloc_netdev_mqs:free_netdev', '--json']).stdout);
    const inconclusive = cli(['compare', leak, lost, '--fail-on', 'never']);
    expect(inconclusive.code).toBe(2);
    expect(inconclusive.stdout.split('\n')[0]).toBe('⚠️ inconclusive: the PR trace lost 130 events (the trace buffer overflowed: raise trace-buffer-kb)');
  });

  it.each([
    [[], /^alloc-balance: compare: expected two analyses \(base then PR\) or one report.json; usage:/],
    [['a.json', 'b.json', 'c.json'], /^alloc-balance: compare: unexpected argument "c.json"$/],
    [['/nonexistent/report.json'], /^alloc-balance: compare: report \/nonexistent\/report.json: cannot be read \(ENOENT\)$/],
    [['/nonexistent/a.json', '/nonexistent/b.json'], /^alloc-balance: compare: base \/nonexistent\/a.json: cannot be read \(ENOENT\)$/],
    [
      ['test/data/not-a-trace.txt', 'test/data/not-a-trace.txt'],
      /^alloc-balance: compare: base test\/data\/not-a-trace.txt: not JSON; expected the output of "alloc-balance analyze --json" or the action's report.json$/,
    ],
    [
      ['package.json', 'package.json'],
      /^alloc-balance: compare: base package.json: not an analysis \("complete" is missing\); expected the output of "alloc-balance analyze --json" or the action's report.json$/,
    ],
    [['a.json', 'b.json', '--fail-on', 'sometimes'], /^alloc-balance: compare: --fail-on "sometimes" is not a policy; use one of new-leak, any-leak, never$/],
  ])('bad input %j: one line on stderr, exit 64', (args, message) => {
    const r = cli(['compare', ...args]);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('--help and --version', () => {
  it('--version prints the package version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) expect(cli([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(cli(['--help']).stdout).toContain(`alloc-balance ${version}: `);
  });

  it.each(Object.keys(HELP))('%s --help: usage, options and examples, exit 0 without running anything', (name) => {
    const r = cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.startsWith(`usage: alloc-balance ${HELP[name].usage}\n`)).toBe(true);
    for (const [option] of HELP[name].options) expect(r.stdout).toContain(`  ${option}  `);
    expect(r.stdout).toContain(`examples:\n  ${HELP[name].examples[0]}\n`);
    expect(cli(['help', name]).stdout).toBe(r.stdout);
    expect(cli([name, '-h']).stdout).toBe(r.stdout);
  });

  it('the analyze and compare examples run as written from a checkout', () => {
    const work = mkdtempSync(join(tmp, 'examples-'));
    symlinkSync(join(ROOT, 'test'), join(work, 'test'));
    const sh = (line: string) =>
      spawnSync(
        'sh',
        ['-c', line.replace(/^alloc-balance /, `"${process.execPath}" "${CLI}" `).replace(/\| alloc-balance /, `| "${process.execPath}" "${CLI}" `)],
        { cwd: work, encoding: 'utf8' },
      );
    const [table, toJson] = HELP.analyze.examples;
    const first = sh(table);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('leaked per cycle (all call sites): 2');
    expect(sh(toJson).status).toBe(0);
    expect(sh(table.replace(/$/, ' --json > base.json')).status).toBe(0);
    const [plain, markdown] = HELP.compare.examples;
    const compared = sh(plain);
    expect(compared.status, compared.stderr).toBe(0);
    expect(compared.stdout).toMatch(/^✅ pass: no new leak/);
    expect(sh(markdown).status).toBe(0);
    expect(readFileSync(join(work, 'comment.md'), 'utf8')).toContain('| ✅ fixed | **alloc_netdev_mqs:free_netdev** (module) |');
  });
});
