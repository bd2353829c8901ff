// No module of src/ reaches itself through its imports: every layer can be read, tested and
// changed from the bottom up. A new cycle fails here with its files in import order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { folderGraph, importCycles, importGraph, relativeImports } from './support/import-graph.js';

describe('the import graph of src/', () => {
  test('has no cycle', () => {
    const graph = importGraph(join(import.meta.dirname, '..', 'src'));
    expect(graph.size).toBeGreaterThan(100);
    expect(importCycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  test('has no cycle between folders either', () => {
    const folders = folderGraph(importGraph(join(import.meta.dirname, '..', 'src')));
    expect(folders.get('verdict')).toContain('report');
    expect(importCycles(folders).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  test('has each folder import only from the layers below its own, as docs/architecture.md § Layers says', () => {
    const folders = folderGraph(importGraph(join(import.meta.dirname, '..', 'src')));
    const layers = documentedLayers(readFileSync(join(import.meta.dirname, '..', 'docs', 'architecture.md'), 'utf8'));
    expect([...folders.keys()].filter((f) => !layers.has(f)).sort(), 'folders with no layer in the table').toEqual([]);
    const upward = [...folders].flatMap(([from, deps]) =>
      deps.filter((to) => (layers.get(to) as number) >= (layers.get(from) as number)).map((to) => `${from} → ${to}`),
    );
    expect(upward).toEqual([]);
  });
});

/**
 * The layer of each folder in the table of § Layers: its `| N | folders | imports from |` rows;
 * the root's small modules, named in the last column of layer 0, below them all.
 */
function documentedLayers(markdown: string): Map<string, number> {
  const section = markdown.slice(markdown.indexOf('## Layers'), markdown.indexOf('## Folders'));
  const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const layers = new Map<string, number>();
  for (const row of section.matchAll(/^\| (\d+) \| ([^|]+) \| ([^|]+) \|$/gm)) {
    const layer = Number(row[1]);
    for (const name of names(row[2])) layers.set(name, layer);
    if (layer === 0) for (const name of names(row[3])) layers.set(name, -1);
  }
  return layers;
}

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
