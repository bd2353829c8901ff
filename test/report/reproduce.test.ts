// The comment's "Reproduce locally" block: the commands with the commits and the inputs the
// workflow set, runnable as written by `alloc-balance run` (every option it gives is one run takes).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RUN_OPTIONS } from '../../src/cli/run.js';
import { readArgs } from '../../src/cli/args.js';
import { reproduceCommands, reproduceMarkdown } from '../../src/report/reproduce.js';
import { renderComment } from '../../src/report/comment.js';
import { givenRunInputs, runOptions } from '../../src/inputs/local-run.js';
import { BASE_SHA, HEAD_SHA, recordedReport } from '../support/recorded-report.js';

/** The words bash makes of a command line (quotes and all). */
function shellWords(line: string): string[] {
  const r = spawnSync('bash', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  return r.stdout.split('\0').slice(0, -1);
}

describe('Reproduce locally', () => {
  it('gives the clone, the fetch of both commits and the run with the inputs the workflow set', async () => {
    const report = await recordedReport();
    expect(reproduceCommands(report)).toEqual([
      'git clone https://github.com/nic-lab/kni-driver.git && cd kni-driver',
      `git fetch origin pull/57/head ${BASE_SHA}`,
      `sudo npx --yes github:nic-lab/alloc-balance#v1 run --base ${BASE_SHA} --head ${HEAD_SHA} --workload './tools/kni_like_app -n 2' --ready-pattern '^ready' --hold 0.5`,
    ]);
    const md = renderComment(report, { checkName: 'alloc-balance', runUrl: 'https://github.com/nic-lab/kni-driver/actions/runs/14120386231' });
    expect(md).toContain('<details><summary>Reproduce locally</summary>');
    expect(md).toContain("the [run's artifacts](https://github.com/nic-lab/kni-driver/actions/runs/14120386231#artifacts)");
    // Collapsed after the table and its small print.
    expect(md.indexOf('Reproduce locally')).toBeGreaterThan(md.indexOf('<sub>'));
  });

  it('the run line parses as `alloc-balance run` reads its options, with the values as given', async () => {
    const run = reproduceCommands(await recordedReport())![2];
    const words = shellWords(run);
    expect(words.slice(0, 5)).toEqual(['sudo', 'npx', '--yes', 'github:nic-lab/alloc-balance#v1', 'run']);
    const { values } = readArgs('run', words.slice(5), RUN_OPTIONS);
    expect(values).toEqual({ base: BASE_SHA, head: HEAD_SHA, workload: './tools/kni_like_app -n 2', 'ready-pattern': '^ready', hold: '0.5' });
  });

  it('uses: ./ (the action from the checkout) gives the checkout CLI; a push without a PR fetches the two commits', async () => {
    const report = await recordedReport();
    const own = { ...report, localRun: { ...report.localRun!, tool: '' }, change: { ...report.change!, prNumber: null } };
    const [, fetch, run] = reproduceCommands(own)!;
    expect(fetch).toBe(`git fetch origin ${HEAD_SHA} ${BASE_SHA}`);
    expect(run.startsWith(`sudo node dist/cli.js run --base ${BASE_SHA}`)).toBe(true);
    expect(reproduceMarkdown(own)).toContain('from a checkout of alloc-balance');
    expect(reproduceMarkdown(own)).not.toContain('artifacts');
  });

  it('reports without what it needs (older ones, the demo) have no block', async () => {
    const report = await recordedReport();
    expect(reproduceMarkdown({ ...report, localRun: undefined })).toBe('');
    expect(reproduceMarkdown({ ...report, change: undefined })).toBe('');
  });
});

describe('the inputs the action records for it', () => {
  const inputs: Record<string, string> = {
    mode: 'full',
    'github-token': 'ghs_secret',
    'check-name': 'kni',
    'module-dir': 'driver',
    cycles: '3',
    target: 'vm',
    track: 'kmalloc:kfree\nalloc_netdev_mqs:free_netdev',
    workload: "./app --name 'x'",
    'base-ref': 'main',
  };
  const given = givenRunInputs((name) => inputs[name] ?? '');

  it('are those run takes, set to other values than their defaults: never the token, the mode or the refs', () => {
    expect(given).toEqual({ 'module-dir': 'driver', workload: "./app --name 'x'", track: 'kmalloc:kfree\nalloc_netdev_mqs:free_netdev' });
    for (const name of Object.keys(given)) expect(RUN_OPTIONS).toHaveProperty(name);
  });

  it('quotes for the shell; pairs on one line', () => {
    const options = runOptions(given);
    expect(options).toEqual(['--module-dir driver', `--workload './app --name '\\''x'\\'''`, '--track kmalloc:kfree,alloc_netdev_mqs:free_netdev']);
    expect(shellWords(options[1])).toEqual(['--workload', "./app --name 'x'"]);
  });
});
