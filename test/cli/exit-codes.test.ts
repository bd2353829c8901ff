// The command line's promises, run as a process on the bundle: its exit status (0 pass, 1 fail,
// 2 inconclusive, 64 bad input, 70 internal error), one error line in one style from every
// command, and a comparison that never reads as passed when something was not measured.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisResult, RunReport } from '../../src/core/model.js';
import { recordedReport } from '../support/recorded-report.js';
import { cliBundle, ROOT, runCli } from '../support/cli.js';
import { useTempDir } from '../support/temp-dir.js';

const tmp = useTempDir('alloc-balance-cli-exit-');
const data = (name: string) => join(ROOT, 'test', 'data', name);
const NETDEV = 'alloc_netdev_mqs:free_netdev';

const cli = (args: string[]) => runCli(args);

/** `analyze --json` of a recorded trace, as a file. */
function analysis(trace: string, name: string, pairs = [NETDEV]): string {
  const r = cli(['analyze', '--trace', data(trace), ...pairs.flatMap((p) => ['--pair', p]), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return write(name, r.stdout);
}

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The status column of the text table (its last column), per row. */
const statuses = (stdout: string) =>
  stdout
    .split('\n')
    .slice(3)
    .filter((l) => / {2}\S/.test(l) && !l.startsWith('base:') && !l.startsWith('- '))
    .map((l) => l.split(/ {2,}/).pop());

beforeAll(() => {
  cliBundle();
}, 60_000);

describe('help', () => {
  it('no arguments: the help on stdout, exit 0', () => {
    const r = cli([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^alloc-balance \S+: proves that a kernel-module patch does not leak kernel memory\n/);
    expect(r.stdout).toContain('exit status:\n  0 pass (or done), 1 fail, 2 inconclusive, 64 bad input (the error names it), 70 internal error\n');
    expect(cli(['help']).stdout).toBe(r.stdout);
  });

  it.each([
    [['help', 'bogus'], 'alloc-balance: help: unknown command "bogus"; the commands are analyze, compare, lab, target, demo, run'],
    [['help', 'toString'], 'alloc-balance: help: unknown command "toString"; the commands are analyze, compare, lab, target, demo, run'],
    [['bogus'], 'alloc-balance: unknown command "bogus"; the commands are analyze, compare, lab, target, demo, run (alloc-balance --help)'],
    [['--bogus'], 'alloc-balance: unknown option "--bogus"; the commands are analyze, compare, lab, target, demo, run (alloc-balance --help)'],
  ])('%j: one line naming it, exit 64', (args, line) => {
    expect(cli(args)).toEqual({ code: 64, stdout: '', stderr: `${line}\n` });
  });
});

describe('one option reader: every command reports a bad option the same way, exit 64', () => {
  it.each([
    [['analyze', '--bogus'], 'analyze: unknown option --bogus (known: --trace, --pair, --stats, --slabinfo, --module, --ko, --nm, --sections, --json)'],
    [['compare', 'a.json', 'b.json', '--bogus'], 'compare: unknown option --bogus (known: --fail-on, --json, --markdown)'],
    [['lab', 'setup', '--bogus'], 'lab setup: unknown option --bogus (known: --kernel, --dir, --owner, --json, --qemu)'],
    [['target', 'run', '--bogus'], 'target run: unknown option --bogus (known: --job)'],
    [['target', 'cleanup', '--bogus', 'x'], 'target cleanup: unknown option --bogus (known: --state)'],
    [['demo', '--bogus'], 'demo: unknown option --bogus (known: --out, --cycles, --kernel, --error-paths, --keep)'],
    [
      ['demo', '--kernel', '6.8.0-45-generic'],
      'demo: --kernel "6.8.0-45-generic" is not a Debian kernel line (5.10, 6.1, 6.12) or an exact release (like 6.1.0-57-amd64 or 6.12.118+deb12-amd64)',
    ],
    [['compare', 'a.json', 'b.json', '--fail-on'], 'compare: --fail-on needs a value (write --fail-on=VALUE for a value that starts with a dash)'],
    [['compare', 'a.json', 'b.json', '--json=yes'], 'compare: --json takes no value'],
    [['lab', 'plan', 'extra'], 'lab plan: unexpected argument "extra" (it takes options only)'],
    [['target', 'run'], 'target run: --job FILE is required (usage: alloc-balance target run --job FILE | target cleanup --state FILE)'],
    [['target', 'bogus'], 'target: unknown subcommand "bogus" (usage: alloc-balance target run --job FILE | target cleanup --state FILE)'],
    [['lab'], 'lab: missing subcommand; usage: alloc-balance lab setup|plan [--kernel LINE|RELEASE] [--qemu] [--dir DIR] [--owner UID:GID] [--json]'],
  ])('%j', (args, message) => {
    expect(cli(args)).toEqual({ code: 64, stdout: '', stderr: `alloc-balance: ${message}\n` });
  });
});

describe('target cleanup', () => {
  it('a state file that does not exist is an error naming it, not "nothing to do"', () => {
    const r = cli(['target', 'cleanup', '--state', '/nonexistent.json']);
    expect(r).toEqual({
      code: 64,
      stdout: '',
      stderr: 'alloc-balance: target cleanup: --state /nonexistent.json: no such file; give the cleanup-state.json a run wrote in its out dir\n',
    });
  });
});

describe('demo', () => {
  it.each([
    ['abc', 'demo: --cycles "abc" is not valid; expected a whole number from 1 to 1000'],
    ['0', 'demo: --cycles "0" is not valid; expected a whole number from 1 to 1000'],
    ['2.5', 'demo: --cycles "2.5" is not valid; expected a whole number from 1 to 1000'],
    ['', 'demo: --cycles needs a number, e.g. --cycles 3'],
  ])('--cycles %j is refused before any lab set-up', (value, message) => {
    const r = cli(['demo', `--cycles=${value}`]);
    expect(r).toEqual({ code: 64, stdout: '', stderr: `alloc-balance: ${message}\n` });
  });

  it('--out without a folder is refused before any lab set-up; the default is a new folder under the temporary folder', () => {
    expect(cli(['demo', '--out='])).toEqual({ code: 64, stdout: '', stderr: 'alloc-balance: demo: --out needs a folder\n' });
    expect(cli(['demo', '--help']).stdout).toContain("(default: a new folder under the system's temporary folder)");
  });
});

describe('analyze', () => {
  it('without a module, module call sites are unknown rather than every call site', () => {
    const r = cli(['analyze', '--trace', data('case-rte-kni-before-fix.trace'), '--pair', NETDEV]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  module call sites: unknown (give --module NAME with --nm/--sections)\n');
    expect(r.stdout).not.toMatch(/module call sites +\d/);
  });

  it('with the module map, the module call sites are counted', () => {
    const r = cli([
      'analyze',
      '--trace',
      data('leaky-kprobe-6.1.trace'),
      '--pair',
      NETDEV,
      '--module',
      'leaky',
      '--nm',
      data('leaky.nm.txt'),
      '--sections',
      data('leaky.sections.json'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\n {2}module call sites +\d+ +\d+ +\d+\n {2}leaked per cycle \(module\): /);
    expect(r.stdout).not.toContain('unknown (give --module');
  });
});

describe('compare never reads as passed when something was not measured', () => {
  it('a pair the traces never saw: inconclusive with the reason, its row not balanced, exit 2', () => {
    const pairs = [NETDEV, 'kmalloc:kfree'];
    const base = analysis('case-rte-kni-before-fix.trace', 'untraced-base.json', pairs);
    const pr = analysis('case-rte-kni-after-fix.trace', 'untraced-pr.json', pairs);
    const r = cli(['compare', base, pr]);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toBe('⚠️ inconclusive: kmalloc:kfree: no kmalloc or kfree event in either trace: check that the pair is traced');
    expect(r.stdout).toMatch(/\nkmalloc:kfree {2}.* {2}⚠️ not measured\n/);
    // The analyses' own problems are carried along.
    expect(r.stdout).toContain('problems:\n- PR: kmalloc:kfree: no kmalloc or kfree event in the trace: check that the pair is traced\n');
    expect(r.stdout).not.toContain('✅');
    expect(statuses(r.stdout)).toEqual(['· fixed (unproven)', '·', '·', '·', '⚠️ not measured']);
    const json = JSON.parse(cli(['compare', base, pr, '--json']).stdout);
    expect(json.verdict).toBe('inconclusive');
    expect(json.rows.find((x: { pair: string; total?: boolean }) => x.pair === 'kmalloc:kfree' && x.total).status).toBe('not-measured');
  });

  it('a pair missing from the PR analysis is not "fixed": not measured on PR, exit 2', () => {
    const before = readJson<AnalysisResult>(analysis('case-rte-kni-before-fix.trace', 'two-pairs-base.json'));
    // The base measured a second pair, leaking; the PR analysis was run without it.
    before.pairs.push({ ...before.pairs[0], alloc: 'alloc_other', free: 'free_other' });
    const base = write('two-pairs-base.json', JSON.stringify(before));
    const pr = analysis('case-rte-kni-after-fix.trace', 'one-pair-pr.json');
    const r = cli(['compare', base, pr, '--markdown']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('**⚠️ inconclusive: alloc_other:free_other: not measured on PR (the PR analysis has no such pair)**');
    expect(r.stdout).toContain('| ⚠️ not measured | **alloc_other:free_other** (module) | 4/2 | — |');
    expect(r.stdout).not.toContain('✅');
  });

  it('lost events on one side: rows are not shown as passed under the inconclusive headline', () => {
    const base = analysis('case-rte-kni-before-fix.trace', 'lost-base.json');
    const lostTrace = write('lost.trace', `# entries-in-buffer/entries-written: 190/320   #P:2\n${readFileSync(data('case-rte-kni-after-fix.trace'), 'utf8')}`);
    const pr = write('lost-pr.json', cli(['analyze', '--trace', lostTrace, '--pair', NETDEV, '--json']).stdout);
    const r = cli(['compare', base, pr]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^⚠️ inconclusive: the PR trace lost 130 events/);
    expect(statuses(r.stdout)[0]).toBe('· fixed (unproven)');
    expect(r.stdout).not.toContain('✅');
  });
});

describe("compare reads the action's report.json", () => {
  it('takes its base and PR analyses: the same verdict as the action, any --fail-on', async () => {
    const report = await recordedReport();
    const file = write('report.json', JSON.stringify(report));
    const r = cli(['compare', file]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(report.comparison.headline);
    expect(r.stdout).toContain('❌ new leak');
    const never = cli(['compare', file, '--fail-on', 'never', '--json']);
    expect(never.code).toBe(0);
    expect(JSON.parse(never.stdout)).toMatchObject({ verdict: 'pass', failOn: 'never' });
    const md = cli(['compare', file, '--markdown']);
    expect(md.stdout).toContain(`**${report.comparison.headline}**`);
    expect(md.stdout).toContain('<summary>Outstanding objects (PR)</summary>');
  });

  it('a side that did not run decides as in the action: a PR that did not build fails', async () => {
    const report: RunReport = await recordedReport({ pr: { status: 'build-failed', reason: 'kni_like.c:12: error', analysis: undefined } });
    const r = cli(['compare', write('report-build-failed.json', JSON.stringify(report))]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('❌ fail: on the PR build the module did not build: kni_like.c:12: error');
  });

  it.each([
    [
      (f: string) => ['compare', f, f],
      (f: string) => `alloc-balance: compare: ${f} is a report of both sides (alloc-balance/report@1): compare it alone (compare ${f})`,
    ],
    [
      () => ['compare', data('../../package.json')],
      () =>
        `alloc-balance: compare: report ${data('../../package.json')}: not an analysis ("complete" is missing); expected the output of "alloc-balance analyze --json" or the action's report.json`,
    ],
  ])('bad input %#: one line, exit 64', async (argv, message) => {
    const file = write('report-bad-input.json', JSON.stringify(await recordedReport()));
    const r = cli(argv(file));
    expect(r).toEqual({ code: 64, stdout: '', stderr: `${message(file)}\n` });
  });

  it('a report.json of another schema version: one line naming the schema, exit 64', async () => {
    const file = write('report-v2.json', JSON.stringify({ ...(await recordedReport()), schema: 'alloc-balance/report@2' }));
    const r = cli(['compare', file]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^alloc-balance: compare: .*report-v2.json is not an alloc-balance report: "schema" is "alloc-balance\/report@2"/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('an unexpected exception', () => {
  it('is an internal error: one line, no stack, exit 70, never a verdict', () => {
    const good = readJson<AnalysisResult>(analysis('case-rte-kni-before-fix.trace', 'broken.json'));
    // Passes the shape check, breaks inside: what a bug looks like from outside.
    (good.pairs[0].callers[0].perCycle as unknown[]) = [null];
    const broken = write('broken.json', JSON.stringify(good));
    const r = cli(['compare', broken, broken]);
    expect(r.code).toBe(70);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^alloc-balance: internal error: .+ \(set ALLOC_BALANCE_DEBUG=1 for the stack\)\n$/);
  });
});
