// The README's table of inputs is the one action.yml makes, and every input of the inputs table
// (src/inputs/table.ts) stands in it with action.yml's default: a new input without docs fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { INPUTS, INPUT_NAMES } from '../../src/inputs/table.js';
// @ts-expect-error: a plain ES module script without types
import { inputsTable, withTable } from '../../scripts/inputs-table.mjs';

const ROOT = join(import.meta.dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const actionYml = readFileSync(join(ROOT, 'action.yml'), 'utf8');

describe("the README's inputs", () => {
  test('the table between the markers is the one action.yml makes (node scripts/inputs-table.mjs rewrites it)', () => {
    expect(withTable(readme, inputsTable(actionYml))).toBe(readme);
  });

  test('every input of src/inputs/table.ts has its row, with its default', () => {
    const rows = new Map<string, string>();
    const table = readme.slice(readme.indexOf('<!-- inputs: made by'), readme.indexOf('<!-- inputs: end -->'));
    for (const m of table.matchAll(/^\| `([\w-]+)` \| ([^|]*) \|/gm)) rows.set(m[1], m[2].trim());
    for (const name of INPUT_NAMES) {
      expect(rows.has(name), `README.md has no row for input ${name}`).toBe(true);
      const spec = INPUTS[name];
      const def = String(spec.default);
      if (spec.kind !== 'text' && def !== '') expect(rows.get(name), name).toBe(`\`${def}\``);
    }
  });

  test('a table without its markers is an error naming them', () => {
    expect(() => withTable('# no table here', 'x')).toThrow(/has no <!-- inputs: made by scripts\/inputs-table\.mjs/);
  });
});
