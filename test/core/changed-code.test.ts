import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Comparison } from '../../src/core/model.js';
import { parseCallCounts } from '../../src/kernel-side/call-counts.js';
import { changedCalls } from '../../src/run/changed-code.js';
import { aliasNames, changedFunctions, changedText, entrySymbols, functionHashes, neverRan } from '../../src/core/changed-code.js';
import { applyChangedCode } from '../../src/verdict/decide.js';

// `objdump -dr --no-show-raw-insn` of demo/leak-shapes built with -DERROR_PATHS (twice), and
// with one more flag each: LEAK_UNWIND_CTX (open), LEAK_IOCTL (ioctl), LEAK_INIT_UNWIND (init).
const dump = (name: string) => readFileSync(join(__dirname, '../data/changed-code', `leak-shapes-${name}.objdump.txt`), 'utf8');

// nm -f sysv: objdump names the init and exit functions after their aliases.
const ALIASES = aliasNames(
  [
    'cleanup_module      |0000000000000000|   T  |              FUNC|0000000000000030|     |.exit.text',
    'init_module         |0000000000000000|   T  |              FUNC|00000000000000bf|     |.init.text',
    'leak_shapes_exit    |0000000000000000|   t  |              FUNC|0000000000000030|     |.exit.text',
    'leak_shapes_init    |0000000000000000|   t  |              FUNC|00000000000000bf|     |.init.text',
  ].join('\n'),
);

describe('changed functions, base against PR builds', () => {
  it('two builds of the same source: nothing changed', () => {
    expect(changedFunctions(dump('base'), dump('base2'))).toEqual([]);
  });
  it.each([
    ['ctx', ['leak_shapes_open']],
    ['ioctl', ['leak_shapes_ioctl']],
    ['init', ['leak_shapes_init']],
  ])('%s: only the function whose code the flag changes', (variant, expected) => {
    expect(changedFunctions(dump('base'), dump(variant), { base: ALIASES, pr: ALIASES })).toEqual(expected);
  });
  it('a string or variable moved in its section does not change the functions that refer to it', () => {
    const a = '0000000000000000 <f>:\n   0:\tmov    $0x0,%rsi\n\t\t\t3: R_X86_64_32S\t.rodata.str1.1+0x10\n';
    const b = '0000000000000040 <f>:\n  40:\tmov    $0x0,%rsi\n\t\t\t43: R_X86_64_32S\t.rodata.str1.1+0x24\n';
    expect(functionHashes(a).get('f')).toBe(functionHashes(b).get('f'));
    const c = '0000000000000040 <f>:\n  40:\tmov    $0x1,%rsi\n\t\t\t43: R_X86_64_32S\t.rodata.str1.1+0x24\n';
    expect(functionHashes(a).get('f')).not.toBe(functionHashes(c).get('f'));
  });
  it('a function new in the PR changed; the aliases of init and exit are not functions of their own', () => {
    const pr = '0000000000000000 <g>:\n   0:\tret\n0000000000000000 <init_module>:\n   0:\tret\n';
    expect(changedFunctions('', pr)).toEqual(['g']);
  });
  it("a new function's padding (6.2 on: __pfx_, or __cfi_ with kCFI) is no function that could run", () => {
    const pr = '0000000000000000 <__pfx_g>:\n   0:\tnop\n0000000000000010 <g>:\n  10:\tret\n0000000000000020 <__cfi_h>:\n  20:\tnop\n';
    expect(changedFunctions('', pr)).toEqual(['g']);
  });
});

describe('what is probed and said', () => {
  it("probes a changed function's entries, not its .cold part", () => {
    expect(entrySymbols(['f'], ['f', 'f.cold', 'f.constprop.0', 'g', 'init_module'])).toEqual(['f', 'f.constprop.0']);
  });
  it('says the calls, and which changed function never ran', () => {
    const c = {
      functions: [
        { name: 'abcase_open', calls: 3 },
        { name: 'abcase_ioctl', calls: 0 },
        { name: 'abcase_init', calls: 1, sweepCalls: 6 },
      ],
    };
    expect(changedText(c)).toBe('abcase_open (3 calls), abcase_ioctl (never ran), abcase_init (7 calls, 6 in the error-path sweep)');
    expect(neverRan(c)).toEqual(['abcase_ioctl']);
  });
});

describe('the verdict once the changed functions are counted', () => {
  const side = { complete: true, lostEvents: 0, cycles: 3 };
  const pass: Comparison = { verdict: 'pass', failOn: 'new-leak', headline: '✅ pass: no new leak — 0/cycle', reasons: [], rows: [], base: side, pr: side };
  const idle = {
    functions: [
      { name: 'abcase_open', calls: 3 },
      { name: 'abcase_ioctl', calls: 0 },
    ],
  };

  it('a pass in which a changed function never ran says so in its headline', () => {
    const c = applyChangedCode(pass, idle, false);
    expect(c.verdict).toBe('pass');
    expect(c.headline).toBe('✅ pass: no new leak — 0/cycle — but the changed function abcase_ioctl never ran');
    expect(c.reasons).toEqual(['changed: abcase_open (3 calls), abcase_ioctl (never ran)']);
  });
  it('require-changed-code makes it inconclusive', () => {
    const c = applyChangedCode(pass, idle, true);
    expect(c.verdict).toBe('inconclusive');
    expect(c.headline).toBe('⚠️ inconclusive: the changed function abcase_ioctl never ran (require-changed-code)');
  });
  it('every changed function ran, or one ran only in the error-path sweep: the pass stands', () => {
    const ran = {
      functions: [
        { name: 'abcase_open', calls: 3 },
        { name: 'abcase_init', calls: 0, sweepCalls: 2 },
      ],
    };
    expect(applyChangedCode(pass, ran, true).headline).toBe(pass.headline);
  });
});

describe('calls as the kernel side counted them', () => {
  it('kprobe_profile hits by event, summed over a function’s entries', () => {
    const events = new Map([
      ['c0', 'abcase_open'],
      ['c1', 'abcase_open.constprop.0'],
      ['c2', 'abcase_ioctl'],
    ]);
    const profile = '  c0     3     0\n  c1    2    0\n  a0   40   0\n  c2   0   0\n';
    const counts = parseCallCounts(profile, events);
    expect(counts).toEqual({ abcase_open: 3, 'abcase_open.constprop.0': 2, abcase_ioctl: 0 });
    expect(
      changedCalls(['abcase_open', 'abcase_ioctl', 'abcase_exit'], {
        cycles: counts,
        sweep: { abcase_open: 4, 'abcase_open.constprop.0': 0, abcase_ioctl: 0 },
      }),
    ).toEqual({
      functions: [
        { name: 'abcase_open', calls: 5, sweepCalls: 4 },
        { name: 'abcase_ioctl', calls: 0 },
        { name: 'abcase_exit', calls: null },
      ],
    });
  });
});

describe('the module init and exit functions', () => {
  it('run at every load and unload: never "never ran", whatever a probe on them counted', () => {
    const c = changedCalls(['ring_exit', 'ring_ioctl'], { cycles: { ring_exit: 0, ring_ioctl: 0 } } as never, { unload: 'ring_exit' });
    expect(neverRan(c)).toEqual(['ring_ioctl']);
    expect(changedText(c)).toBe('ring_exit (at every unload), ring_ioctl (never ran)');
  });
});
