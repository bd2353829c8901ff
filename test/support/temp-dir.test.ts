// Test files make their temporary folders when their tests run, never while vitest collects them:
// the hooks that remove a folder do not run for a file or block whose tests are all filtered out
// (-t, a single test file of a list) or skipped, and a folder made at collection stays in /tmp.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { tsFiles } from './source-files.js';
import { useTempDir } from './temp-dir.js';

const TEST = join(import.meta.dirname, '..');

/** Calls whose callbacks vitest runs with the tests (or not at all), not while collecting. */
const RUNTIME = new Set(['beforeAll', 'beforeEach', 'afterAll', 'afterEach', 'test', 'it', 'bench', 'onTestFinished', 'onTestFailed']);
/** Calls whose callbacks vitest runs while collecting. */
const COLLECTED = new Set(['describe', 'suite']);
const FS_WRITES = new Set(['mkdirSync', 'mkdir', 'writeFileSync', 'writeFile', 'cpSync', 'copyFileSync', 'symlinkSync']);

/** `describe.skipIf(x)(...)`, `test.each(...)(...)`, `fs.mkdtempSync(...)`: the name the chain starts from, and the called name. */
function names(call: ts.CallExpression): { root: string; name: string } {
  let e: ts.Expression = call.expression;
  const name = ts.isPropertyAccessExpression(e) ? e.name.text : ts.isIdentifier(e) ? e.text : '';
  while (ts.isCallExpression(e) || ts.isPropertyAccessExpression(e)) e = e.expression;
  return { root: ts.isIdentifier(e) ? e.text : '', name };
}

function makesTemp(call: ts.CallExpression): boolean {
  const { name } = names(call);
  if (name === 'mkdtempSync' || name === 'mkdtemp') return true;
  const first = call.arguments[0];
  return FS_WRITES.has(name) && first !== undefined && /\btmpdir\(\)/.test(first.getText());
}

/** The calls made when `node` runs: not those inside functions it only defines, nor in the callbacks of tests and hooks. */
function callsRun(node: ts.Node, out: ts.CallExpression[] = []): ts.CallExpression[] {
  ts.forEachChild(node, (child) => {
    if (ts.isFunctionLike(child)) {
      const call = child.parent;
      if (ts.isCallExpression(call) && call.arguments.includes(child as unknown as ts.Expression)) {
        const { root } = names(call);
        if (COLLECTED.has(root)) callsRun(child, out);
        else if (!RUNTIME.has(root)) return;
      }
      return;
    }
    if (ts.isCallExpression(child)) out.push(child);
    callsRun(child, out);
  });
  return out;
}

/**
 * Where a file of `sources` makes something under the temporary folder while vitest collects
 * it: at its top level, in a describe block, or in a function called from there (functions are
 * matched by name across the files), as `file:line`.
 */
function tempFoldersAtCollection(sources: Record<string, string>): string[] {
  const files = Object.entries(sources).map(([path, text]) => ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true));
  const functions = new Map<string, ts.Node[]>();
  const define = (name: string, body: ts.Node) => functions.set(name, [...(functions.get(name) ?? []), body]);
  const walk = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name && n.body) define(n.name.text, n.body);
    if (
      ts.isVariableDeclaration(n) &&
      ts.isIdentifier(n.name) &&
      n.initializer &&
      (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))
    ) {
      define(n.name.text, n.initializer.body);
    }
    ts.forEachChild(n, walk);
  };
  for (const f of files) walk(f);

  const found = new Set<string>();
  const seen = new Set<ts.Node>();
  const pending: ts.Node[] = [...files];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const call of callsRun(node)) {
      if (makesTemp(call)) {
        const at = call.getSourceFile();
        found.add(`${at.fileName}:${at.getLineAndCharacterOfPosition(call.getStart()).line + 1}`);
      }
      pending.push(...(functions.get(names(call).name) ?? []));
    }
  }
  return [...found].sort();
}

describe('temporary folders of the tests', () => {
  test('no test file makes one while it is collected', () => {
    const files = tsFiles(TEST).filter((f) => !relative(TEST, f).startsWith('data/'));
    expect(files.length).toBeGreaterThan(100);
    expect(tempFoldersAtCollection(Object.fromEntries(files.map((f) => [relative(TEST, f), readFileSync(f, 'utf8')])))).toEqual([]);
  });

  test('a folder made at the top level, in a describe block or by a helper called from there is found; one made in a hook or a test is not', () => {
    const helper = `
      import { mkdtempSync, mkdirSync } from 'node:fs';
      export function useDir(prefix: string): string {
        const dir = mkdtempSync(join(tmpdir(), prefix));
        afterAll(() => rmSync(dir, { recursive: true }));
        return dir;
      }
      export function useLazyDir(prefix: string): string {
        const dir = join(tmpdir(), prefix);
        beforeAll(() => mkdirSync(dir));
        return dir;
      }
      export const later = () => mkdtempSync(join(tmpdir(), 'x-'));`;
    const file = `
      const a = mkdtempSync(join(tmpdir(), 'a-'));
      const b = useDir('b-');
      const c = useLazyDir('c-');
      describe.skipIf(!root)('block', () => {
        mkdirSync(join(tmpdir(), 'd'));
        beforeEach(() => { later(); });
        test('t', () => { mkdtempSync(join(tmpdir(), 'e-')); });
      });`;
    expect(tempFoldersAtCollection({ 'helper.ts': helper, 'a.test.ts': file })).toEqual(['a.test.ts:2', 'a.test.ts:6', 'helper.ts:4']);
  });
});

let skipped = '';
describe.skip('a block whose tests do not run', () => {
  skipped = useTempDir('ab-temp-folders-skipped-');
  test('never runs', () => {});
});

test('useTempDir makes nothing for a block whose tests do not run', () => {
  expect(skipped).toContain('ab-temp-folders-skipped-');
  expect(existsSync(skipped)).toBe(false);
});

const here = useTempDir('ab-temp-folders-');

test('useTempDir makes its folder before the tests', () => {
  expect(existsSync(here)).toBe(true);
});
