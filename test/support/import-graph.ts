// The import graph of a source folder: every static `import` and `export ... from` of a relative
// module, type-only imports included (a cycle of types is still a cycle for whoever reads them).
import { existsSync, readFileSync } from 'node:fs';
import { tsFiles } from './source-files.js';
import { dirname, relative, resolve } from 'node:path';

/** File (relative to the root) → the files it imports (relative to the root). */
export type ImportGraph = Map<string, string[]>;

const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm;

/** The relative module specifiers of a file's static imports and re-exports. */
export function relativeImports(text: string): string[] {
  return [...text.matchAll(STATIC_IMPORT)].map((m) => m[1]).filter((s) => s.startsWith('.'));
}

/** The graph of every .ts file under root; throws on a module import that names no .ts file under root. */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of tsFiles(root)) {
    // Data files (`../package.json`) are no part of the graph.
    const modules = relativeImports(readFileSync(file, 'utf8')).filter((spec) => !spec.endsWith('.json'));
    const deps = modules.map((spec) => {
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (!existsSync(target) || relative(root, target).startsWith('..')) {
        throw new Error(`${relative(root, file)} imports ${spec}, which is no .ts file under ${root}`);
      }
      return relative(root, target);
    });
    graph.set(relative(root, file), [...new Set(deps)]);
  }
  return graph;
}

/**
 * One cycle of each strongly connected group of files (Tarjan), as the files in import order with
 * the first repeated at the end: `a.ts → b.ts → a.ts`. Empty: no cycle.
 */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => cycleThrough(graph, new Set(group)));
}

/** The shortest way from the group's first file (by name) back to itself, inside the group. */
function cycleThrough(graph: ImportGraph, group: Set<string>): string[] {
  const start = [...group].sort()[0];
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of graph.get(v) ?? []) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(from.get(path[0]) as string);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * The graph of the folders under the root: a folder imports another when one of its files imports
 * one of the other's. A file at the root is a node of its own (the entry points and the small
 * modules every folder may use).
 */
export function folderGraph(graph: ImportGraph): ImportGraph {
  const node = (file: string) => (dirname(file) === '.' ? file : dirname(file).split('/')[0]);
  const folders: ImportGraph = new Map();
  for (const [file, deps] of graph) {
    const from = node(file);
    const to = new Set([...(folders.get(from) ?? []), ...deps.map(node).filter((d) => d !== from)]);
    folders.set(from, [...to].sort());
  }
  return folders;
}
