// Quoting checked by the real sh: every word comes back as it was given.
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { shellCommand, shellQuote } from '../src/shell-quote.js';

const WORDS = ['plain', 'a b', "it's", '$HOME', '"q"', '', '*', 'a\nb', '`id`', '--opt=/x:y,z', 'back\\slash', '~', '; rm -rf /'];

describe('shellQuote', () => {
  test.each([
    ['make', 'make'],
    ['M=/tmp/mod', 'M=/tmp/mod'],
    ['', "''"],
    ['a b', "'a b'"],
    ["a'b", `'a'\\''b'`],
    ['$HOME', "'$HOME'"],
  ])('%j -> %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  test('the real sh reads every word back unchanged', () => {
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${shellCommand(WORDS)}`], { encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(WORDS);
  });
});
