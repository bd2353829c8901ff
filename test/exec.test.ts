import { describe, expect, test } from 'vitest';
import { lastLines } from '../src/exec.js';

describe('lastLines', () => {
  const text = 'one\n\ntwo\n  \nthree\nfour\n';
  test('the last non-empty lines, blank ones skipped', () => {
    expect(lastLines(text, 3)).toBe('two\nthree\nfour');
    expect(lastLines(text, 10)).toBe('one\ntwo\nthree\nfour');
    expect(lastLines('', 3)).toBe('');
  });
  test('on one line for a message', () => {
    expect(lastLines('fatal: a\nhint: b\n', 3, ' | ')).toBe('fatal: a | hint: b');
  });
});
