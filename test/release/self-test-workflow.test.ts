// .github/workflows/self-test.yml's preparation step, run by bash as the runner runs it, in a clone
// of this repository: it builds the demo's workload and commits the leaky base the action is then
// pointed at. The commit must be exactly the demo's leaky variant (src/demo/fixture-repo.ts), and
// the checkout left at the commit under test.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parse } from 'yaml';
import { fixtureSource } from '../../src/demo/fixture-repo.js';
import { useTempDir } from '../support/temp-dir.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = useTempDir('alloc-balance-self-test-');

test('the leaky base is the demo leaky variant, the workload is built, HEAD is back at the commit under test', () => {
  const workflow = parse(readFileSync(join(ROOT, '.github/workflows/self-test.yml'), 'utf8'));
  const steps = workflow.jobs['demo-module'].steps as { id?: string; run?: string; uses?: string; with?: Record<string, string> }[];
  const fixture = steps.find((s) => s.id === 'fixture');
  expect(fixture?.run).toBeDefined();
  const clone = join(work, 'clone');
  execFileSync('git', ['clone', '-q', ROOT, clone]);
  const git = (args: string[]) => execFileSync('git', args, { cwd: clone, encoding: 'utf8' }).trim();
  const head = git(['rev-parse', 'HEAD']);
  const output = join(work, 'output');
  writeFileSync(output, '');
  const r = spawnSync('bash', ['-e', '-c', fixture!.run!], { cwd: clone, encoding: 'utf8', env: { ...process.env, GITHUB_OUTPUT: output, RUNNER_TEMP: work } });
  expect(r.status, r.stderr).toBe(0);
  const outputs = Object.fromEntries(
    readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('=')),
  );
  expect(git(['rev-parse', 'HEAD'])).toBe(head);
  expect(git(['status', '--porcelain'])).toBe('');
  expect(git(['rev-parse', `${outputs.base}^`])).toBe(head);
  expect(git(['show', `${outputs.base}:demo/kni-like/kni_like.c`])).toBe(fixtureSource(join(ROOT, 'demo/kni-like'), 'leaky').trimEnd());
  expect(existsSync(join(outputs.app, 'kni_like_app'))).toBe(true);
  // The action step reads them as the workflow says.
  const action = steps.find((s) => s.uses === './');
  expect(action?.with).toMatchObject({ 'base-ref': '${{ steps.fixture.outputs.base }}', 'module-dir': 'demo/kni-like' });
});
