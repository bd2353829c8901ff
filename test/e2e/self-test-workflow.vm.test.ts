// .github/workflows/self-test.yml as a runner would run it on a push to this repository: the
// checkout (a clone), the preparation step by bash, `uses: ./` (the bundled action, its `with:`
// evaluated from the earlier step's outputs, action.yml's defaults for the rest), then the check
// step by bash with the action's outputs. The action must find the base's leak and pass the PR.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { parse } from 'yaml';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { ROOT, actionDefaults, assertActionReady, runAction } from '../support/action-harness.js';
import { useTempDir } from '../support/temp-dir.js';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number>;
  env?: Record<string, string>;
}

const work = useTempDir('ab-self-test-');
beforeAll(() => {
  findLabKernel();
  assertActionReady();
});

/** `${{ steps.<id>.outputs.<name> }}` and `${{ github.token }}` (none here), as the runner evaluates them. */
function evaluate(text: string, outputs: Record<string, Record<string, string>>): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    const m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
    if (m) return outputs[m[1]]?.[m[2]] ?? '';
    if (expr === 'github.token') return '';
    throw new Error(`the test does not evaluate \${{ ${expr} }}`);
  });
}

test('on a push: the leaky base found at igb_like_probe, the PR balanced, every step green', () => {
  const workflow = parse(readFileSync(join(ROOT, '.github/workflows/self-test.yml'), 'utf8'));
  const steps = workflow.jobs['demo-module'].steps as Step[];
  expect(steps[0].uses).toBe('actions/checkout@v5');
  const workspace = join(work, 'workspace');
  execFileSync('git', ['clone', '-q', '--no-local', ROOT, workspace]);
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspace, encoding: 'utf8' }).trim();
  const outputs: Record<string, Record<string, string>> = {};
  const bash = (step: Step, env: Record<string, string>) => {
    const file = join(work, `${step.id ?? 'step'}-output`);
    writeFileSync(file, '');
    const stepEnv: Record<string, string> = { ...(process.env as Record<string, string>), GITHUB_OUTPUT: file, RUNNER_TEMP: work, ...env };
    for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = evaluate(v, outputs);
    const r = spawnSync('bash', ['-e', '-c', step.run!], { cwd: workspace, env: stepEnv, encoding: 'utf8' });
    if (step.id)
      outputs[step.id] = Object.fromEntries(
        readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('=', 2) as [string, string]),
      );
    return r;
  };
  for (const step of steps.slice(1)) {
    if (step.uses === 'actions/upload-artifact@v4') continue;
    if (step.uses === './') {
      const inputs = { ...actionDefaults() };
      for (const [k, v] of Object.entries(inputs)) inputs[k] = evaluate(v, outputs);
      for (const [k, v] of Object.entries(step.with ?? {})) inputs[k] = evaluate(String(v), outputs);
      inputs['output-dir'] = join(workspace, inputs['output-dir']);
      const r = runAction({
        dir: join(work, 'action'),
        workspace,
        inputs,
        event: { name: 'push', payload: { after: head, before: '0'.repeat(40), ref: 'refs/heads/main', repository: { full_name: 'local/alloc-balance' } } },
      });
      expect(r.code, r.stdout).toBe(0);
      outputs[step.id!] = r.outputs;
      continue;
    }
    const r = bash(step, {});
    expect(r.status, `${step.name}: ${r.stdout}${r.stderr}`).toBe(0);
  }
  expect(outputs.balance.verdict).toBe('pass');
  expect(outputs.balance['leaked-per-cycle']).toBe('0');
  const report = JSON.parse(readFileSync(outputs.balance.report, 'utf8'));
  expect(report.comparison.rows.find((r: { caller: string }) => r.caller === 'igb_like_probe').base.leakedPerCycle).toBe(2);
});
