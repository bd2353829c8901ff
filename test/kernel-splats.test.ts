// The splat policy, one golden file per case (test/data/splats/<case>.expected): what the run's
// dmesg check reports and what the VM's console watch keeps, for each kernel text beside it.
// After a deliberate change to src/kernel-splats.ts: AB_GOLDEN=1 npx vitest run test/kernel-splats.test.ts
// rewrites them; read the diff.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeCrash, SPLAT_PATTERNS, splatOf } from '../src/kernel-splats.js';
import { findSplats } from '../src/kernel-side/splats.js';
import { ConsoleWatch } from '../src/lab/console-watch.js';

const DIR = join(import.meta.dirname, 'data', 'splats');
const CASES = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -'.txt'.length));

function verdicts(text: string): string {
  const splats = findSplats(text);
  const watch = new ConsoleWatch('no-job');
  watch.push(text);
  watch.end();
  return [
    '# dmesg after a run (kernel-side/splats.ts)',
    ...(splats.length ? splats.flatMap((s) => [`== ${s.kind} ==`, s.excerpt]) : ['(no splat)']),
    '',
    '# the VM console (lab/console-watch.ts)',
    `kernel panic: ${watch.kernelPanic ? 'yes' : 'no'}`,
    watch.excerpt() || '(no crash excerpt)',
    '',
    '# the crash in a few words (an error-path finding names it)',
    ((c) => (c ? `${c.what}${c.where ? ` in ${c.where}` : ''}` : '(no crash)'))(watch.excerpt() ? describeCrash(watch.excerpt()) : undefined),
    '',
  ].join('\n');
}

describe('kernel splats, golden cases', () => {
  test.each(CASES)('%s', (name) => {
    const got = verdicts(readFileSync(join(DIR, `${name}.txt`), 'utf8'));
    const file = join(DIR, `${name}.expected`);
    if (process.env.AB_GOLDEN === '1') writeFileSync(file, got);
    expect(got).toBe(readFileSync(file, 'utf8'));
  });

  test('every kind of the list is the first match of some case', () => {
    const seen = new Set(CASES.flatMap((name) => findSplats(readFileSync(join(DIR, `${name}.txt`), 'utf8'), 10).map((s) => s.kind)));
    expect(SPLAT_PATTERNS.map((p) => p.kind).filter((k) => !seen.has(k))).toEqual([]);
  });

  test('a line is of the first kind it matches; crashes only when asked', () => {
    expect(splatOf('[  3.2] BUG: KASAN: use-after-free in f+0x12/0x40')?.kind).toBe('BUG');
    expect(splatOf('[  5.1] WARNING: CPU: 1 PID: 99 at net/core/dev.c:10541 free_netdev+0x1a/0x1b0')?.crash).toBe(false);
    expect(splatOf('[  5.1] WARNING: CPU: 1 PID: 99 at net/core/dev.c:10541 free_netdev+0x1a/0x1b0', true)).toBeUndefined();
    expect(splatOf('[  9.9] kni_like: a BUG-free unload, oops_on_load=0')).toBeUndefined();
  });
});
