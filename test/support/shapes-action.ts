// The bundled action against a repository of demo/leak-shapes variants (one commit each), in the
// VM, with no track input: what the shape tests share. AB_KEEP=1 keeps the runs' folders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createShapesRepo, SHAPES_WORKLOAD } from '../../src/demo/shapes-repo.js';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { type ActionRun, ROOT, assertActionReady, runAction } from './action-harness.js';

export interface ShapesRepo<V extends string> {
  /** Each variant's commit, filled in before the tests run. */
  sha: Record<V, string>;
  /** The action on base against head, with these inputs on top of the shared ones. */
  run(name: string, base: string, head: string, inputs?: Record<string, string>): ActionRun;
}

/** Registers the repository's set-up and removal with the test file's hooks. */
export function useShapesRepo<V extends string>(prefix: string, variants: readonly V[], cycles = 3): ShapesRepo<V> {
  let work = '';
  let repo = '';
  const sha = {} as Record<V, string>;
  beforeAll(() => {
    findLabKernel();
    assertActionReady();
    work = mkdtempSync(join(tmpdir(), prefix));
    repo = join(work, 'repo');
    const shas = createShapesRepo(join(ROOT, 'demo/leak-shapes'), repo, [...variants]);
    for (const [i, v] of variants.entries()) sha[v] = shas[i];
  });
  afterAll(() => {
    if (work && !process.env.AB_KEEP) rmSync(work, { recursive: true, force: true });
    if (work && process.env.AB_KEEP) console.log(`kept ${work}`);
  });
  return {
    sha,
    run(name, base, head, inputs = {}) {
      const dir = join(work, name);
      return runAction({
        dir,
        workspace: repo,
        inputs: {
          target: 'vm',
          workload: SHAPES_WORKLOAD,
          'ready-pattern': '^ready',
          hold: '0.3',
          cycles: String(cycles),
          'output-dir': join(dir, 'out'),
          'github-token': '',
          'base-ref': base,
          'head-ref': head,
          ...inputs,
        },
      });
    },
  };
}
