// No module of src/ reaches itself through its imports: every layer can be read, tested and
// changed from the bottom up. A new cycle fails here with its files in import order.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { folderGraph, importCycles, importGraph, relativeImports } from './support/import-graph.js';

describe('the import graph of src/', () => {
  test('has no cycle', () => {
    const graph = importGraph(join(import.meta.dirname, '..', 'src'));
    expect(graph.size).toBeGreaterThan(100);
    expect(importCycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  // A folder is a layer: core, process and inputs at the bottom, then report and the sandbox,
  // ..., run, then the command line and the entry points (docs/architecture.md § Layers).
  test('has no cycle between folders either', () => {
    const folders = folderGraph(importGraph(join(import.meta.dirname, '..', 'src')));
    expect(folders.get('verdict')).toContain('report');
    expect(importCycles(folders).map((cycle) => cycle.join(' → '))).toEqual([]);
  });
});

describe('the import graph reader', () => {
  test('reads imports, type imports and re-exports, over several lines, and leaves packages out', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {',
      '  c,',
      '  type D,',
      "} from './c.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "export * from './g.js';",
      "import './side-effect.js';",
      "import { readFileSync } from 'node:fs';",
      "const s = 'import nothing';",
    ].join('\n');
    expect(relativeImports(text)).toEqual(['./a.js', '../b.js', './c.js', './e.js', './f.js', './g.js', './side-effect.js']);
  });

  test('folds files into their top folder, a file at the root standing for itself', () => {
    const graph = new Map([
      ['main.ts', ['run/pipeline.ts', 'errors.ts']],
      ['errors.ts', []],
      ['run/pipeline.ts', ['run/side.ts', 'report/text/table.ts', 'errors.ts']],
      ['run/side.ts', ['report/headline.ts']],
      ['report/headline.ts', []],
      ['report/text/table.ts', ['run/side.ts']],
    ]);
    const folders = folderGraph(graph);
    expect(Object.fromEntries(folders)).toEqual({ 'main.ts': ['errors.ts', 'run'], 'errors.ts': [], run: ['errors.ts', 'report'], report: ['run'] });
    expect(importCycles(folders).map((c) => c.join(' → '))).toEqual(['report → run → report']);
  });

  test('names each cycle in import order, type-only ones too', () => {
    const graph = new Map([
      ['settings.ts', ['options.ts', 'inputs.ts']],
      ['options.ts', ['workload.ts']],
      ['workload.ts', ['settings.ts']],
      ['inputs.ts', []],
      ['plan.ts', ['preset.ts']],
      ['preset.ts', ['plan.ts']],
      ['self.ts', ['self.ts']],
    ]);
    expect(importCycles(graph).map((c) => c.join(' → '))).toEqual([
      'options.ts → workload.ts → settings.ts → options.ts',
      'plan.ts → preset.ts → plan.ts',
      'self.ts → self.ts',
    ]);
  });
});
