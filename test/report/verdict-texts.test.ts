// A verdict's words are report/'s: the verdict module decides a cause, report/ writes it. A
// verdict mark (✅ ❌ ⚠️) written anywhere else in src/ fails here.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tsFiles } from '../support/source-files.js';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const MARKS = /✅|❌|⚠️/;

describe('verdict texts', () => {
  test('are written in src/report/ only', () => {
    const all = tsFiles(SRC).map((file) => relative(SRC, file));
    expect(all.filter((file) => file.startsWith('report/') && MARKS.test(readFileSync(join(SRC, file), 'utf8')))).toContain('report/headline.ts');
    const elsewhere = all.filter((file) => !file.startsWith('report/') && MARKS.test(readFileSync(join(SRC, file), 'utf8')));
    expect(elsewhere, 'write the text in src/report/ (headline.ts for a headline) from what the verdict module decided').toEqual([]);
  });
});
