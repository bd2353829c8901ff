// The inputs table against action.yml, both ways: every input the code reads is declared there with
// the same default, and every declared input is read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { INPUTS, INPUT_NAMES, actionYmlDefault, type InputSpec } from '../../src/inputs/table.js';

const action = parse(readFileSync(join(import.meta.dirname, '../../action.yml'), 'utf8')) as {
  inputs: Record<string, { description?: string; default?: string }>;
};

describe('the inputs table and action.yml', () => {
  test('the same names, in both directions', () => {
    expect(Object.keys(action.inputs).sort()).toEqual([...INPUT_NAMES].sort());
  });

  test.each(INPUT_NAMES)('%s: the same default, and a description', (name) => {
    const declared = action.inputs[name];
    expect(declared.description, `action.yml: ${name} has no description`).toBeTruthy();
    expect(String(declared.default ?? '')).toBe(actionYmlDefault(INPUTS[name]));
  });

  test('every choice default is one of its choices (or empty, decided at run time)', () => {
    for (const [name, spec] of Object.entries(INPUTS) as [string, InputSpec][]) {
      if (spec.kind === 'choice' && spec.default !== '') expect(spec.choices, name).toContain(spec.default);
      if (spec.kind === 'number' && spec.default !== '') {
        expect(spec.default, name).toBeGreaterThanOrEqual(spec.min);
        expect(spec.default, name).toBeLessThanOrEqual(spec.max);
      }
    }
  });
});
