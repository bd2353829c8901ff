import { describe, expect, test } from 'vitest';
import { TailBuffer, lastChars, lastLines, lineSplitter } from '../../src/process/tail.js';

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

describe('lastChars and TailBuffer', () => {
  test('the end of a text, whole when it is short enough', () => {
    expect(lastChars('abcdef', 3)).toBe('def');
    expect(lastChars('ab', 3)).toBe('ab');
  });
  test('a growing text keeps its last characters across pushes', () => {
    const t = new TailBuffer(4);
    for (const s of ['ab', 'cd', 'efg', 'h']) t.push(s);
    expect(t.text()).toBe('efgh');
  });
});

describe('lineSplitter', () => {
  test('whole lines across chunks, the unfinished one on flush', () => {
    const lines: string[] = [];
    const s = lineSplitter((l) => lines.push(l));
    s.push('one\ntw');
    s.push('o\nthr');
    expect(lines).toEqual(['one', 'two']);
    s.flush();
    expect(lines).toEqual(['one', 'two', 'thr']);
  });
});
