import { describe, expect, test } from 'vitest';
import { moduleName } from '../../src/core/module-name.js';

describe('a module name as the kernel knows it', () => {
  test.each([
    ['rte_kni', 'rte_kni'],
    ['rte-kni', 'rte_kni'],
    ['/tmp/out/leak-shapes.ko', 'leak_shapes'],
    ['/lib/modules/RELEASE/kernel/drivers/net/ethernet/intel/igb/igb.ko.xz', 'igb'],
    ['vfio-pci.ko.zst', 'vfio_pci'],
    [' kni_like \n', 'kni_like'],
  ])('%j is %j', (given, name) => {
    expect(moduleName(given)).toBe(name);
  });
});
