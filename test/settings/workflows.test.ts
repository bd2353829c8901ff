// action.yml and every workflow the docs show, checked by a schema validator (@action-validator/core,
// SchemaStore's github-action and github-workflow schemas): what a user copies must be valid.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateAction, validateWorkflow, type ValidationState } from '@action-validator/core';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '../..');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

function errors(state: ValidationState): string[] {
  const out: string[] = [];
  const walk = (list: ValidationState['errors']) => {
    for (const e of list) {
      out.push(`${'path' in e ? e.path : ''} ${e.title}${e.detail ? `: ${e.detail}` : ''}`);
      if ('states' in e && e.states) for (const s of e.states) walk(s.errors);
    }
  };
  walk(state.errors);
  return out;
}

/** The ```yaml blocks of a markdown file: a whole workflow, or steps (embedded into one to be checked). */
function yamlBlocks(file: string): { file: string; line: number; workflow: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const blocks: { file: string; line: number; workflow: string }[] = [];
  for (const m of text.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)) {
    const line = text.slice(0, m.index).split('\n').length;
    const body = m[1];
    const doc = parse(body) as unknown;
    if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'jobs' in doc) {
      blocks.push({ file, line, workflow: body });
      continue;
    }
    // A step list (indented under `steps:`), or a job's keys such as `runs-on:`.
    const indent = Math.min(
      ...body
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.length - l.trimStart().length),
    );
    const under = (n: number) =>
      body
        .split('\n')
        .map((l) => `${' '.repeat(n)}${l.slice(indent)}`)
        .join('\n');
    const workflow = Array.isArray(doc)
      ? `on: pull_request\njobs:\n  balance:\n    runs-on: ubuntu-latest\n    steps:\n${under(6)}\n`
      : `on: pull_request\njobs:\n  balance:\n${under(4)}\n    steps:\n      - run: 'true'\n`;
    blocks.push({ file, line, workflow });
  }
  return blocks;
}

describe('action.yml', () => {
  test('is a valid action (runs.using node24, which the schema does not list yet, checked apart)', () => {
    const text = readFileSync(join(ROOT, 'action.yml'), 'utf8');
    expect(parse(text).runs).toMatchObject({ using: 'node24', main: 'dist/index.js', post: 'dist/post.js' });
    // @action-validator/core 0.6.0 (SchemaStore's github-action.json) knows node12..node20 only.
    expect(errors(validateAction(text.replace(/^(\s+using:) node24$/m, '$1 node20')))).toEqual([]);
  });

  test('the check fails on a broken action', () => {
    expect(errors(validateAction('name: x\nruns:\n  using: node20\n')).length).toBeGreaterThan(0);
  });
});

describe('the workflows in README.md and docs/', () => {
  const blocks = DOCS.flatMap(yamlBlocks);

  test('there are workflows to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  test.each(blocks.map((b) => [`${b.file}:${b.line}`, b.workflow]))('%s is a valid workflow', (_where, workflow) => {
    expect(errors(validateWorkflow(workflow))).toEqual([]);
  });

  test('the check fails on a broken workflow', () => {
    expect(errors(validateWorkflow('on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n')).length).toBeGreaterThan(0);
  });
});

describe("this repository's own workflows", () => {
  const dir = join(ROOT, '.github', 'workflows');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

  test('ci, check-dist, release and self-test are there', () => {
    expect(files.sort()).toEqual(expect.arrayContaining(['check-dist.yml', 'ci.yml', 'release.yml', 'self-test.yml']));
  });

  test.each(files)('.github/workflows/%s is a valid workflow', (file) => {
    expect(errors(validateWorkflow(readFileSync(join(dir, file), 'utf8')))).toEqual([]);
  });

  test('dependabot keeps npm and the workflow actions current', () => {
    const config = parse(readFileSync(join(ROOT, '.github', 'dependabot.yml'), 'utf8')) as { version: number; updates: { 'package-ecosystem': string }[] };
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
  });

  test("self-test runs this checkout's action on the demo module", () => {
    const workflow = parse(readFileSync(join(dir, 'self-test.yml'), 'utf8'));
    const steps = Object.values(workflow.jobs as Record<string, { steps: { uses?: string; with?: Record<string, string> }[] }>).flatMap((j) => j.steps);
    const action = steps.find((s) => s.uses === './');
    expect(action?.with?.['module-dir']).toBe('demo/kni-like');
  });
});
