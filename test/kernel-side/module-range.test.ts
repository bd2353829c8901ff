import { describe, expect, it } from 'vitest';
import { moduleCoreRange } from '../../src/kernel-side/kernel-module.js';

// /proc/modules as root on the lab's 6.1 kernel (no_hash_pointers), with the module loaded.
const PROC_MODULES = `kni_like 20480 0 - Live 0xffffffffc0301000 (OE)
9p 90112 1 - Live 0xffffffffc02e0000
netfs 65536 1 9p, Live 0xffffffffc02c8000
`;

describe('moduleCoreRange', () => {
  it('reads the base address and size of the named module', () => {
    expect(moduleCoreRange(PROC_MODULES, 'kni_like')).toEqual({ start: 0xffffffffc0301000n, end: 0xffffffffc0306000n });
    expect(moduleCoreRange(PROC_MODULES, 'netfs')).toEqual({ start: 0xffffffffc02c8000n, end: 0xffffffffc02d8000n });
  });

  it('gives null for a module that is not loaded or whose address is hidden', () => {
    expect(moduleCoreRange(PROC_MODULES, 'kni')).toBeNull();
    expect(moduleCoreRange('kni_like 20480 0 - Live 0x0000000000000000 (OE)\n', 'kni_like')).toBeNull();
  });
});
