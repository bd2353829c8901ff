import { describe, expect, it } from 'vitest';
import { ModuleMap, parseNm } from '../../src/core/module-map.js';
import { callerKey, parseFrame } from '../../src/core/frames.js';
import { fixture } from '../support/trace-fixtures.js';

describe('frames', () => {
  it('takes apart every printed shape', () => {
    expect(parseFrame('leaky_create+0x5a/0x100 [leaky]')).toEqual({ symbol: 'leaky_create', offset: 0x5a, module: 'leaky', address: '' });
    expect(parseFrame('kni_ioctl_create')).toEqual({ symbol: 'kni_ioctl_create', offset: -1, module: '', address: '' });
    expect(parseFrame('0xFFFFFFFFC0203112')).toEqual({ symbol: '', offset: -1, module: '', address: '0xffffffffc0203112' });
    expect(parseFrame('ffffffffc0203112').address).toBe('0xffffffffc0203112');
    expect(parseFrame('leaky_init [leaky]')).toEqual({ symbol: 'leaky_init', offset: -1, module: 'leaky', address: '' });
  });

  it('keys call sites by function across builds', () => {
    expect(callerKey('kni_dev_remove.isra.0+0x12')).toBe('kni_dev_remove');
    expect(callerKey('leaky_create+0x5a')).toBe('leaky_create');
  });
});

describe('ModuleMap', () => {
  const map = new ModuleMap('leaky', fixture('leaky.nm.txt'), JSON.parse(fixture('leaky.sections.json')));

  it('parses nm in System V and BSD shapes, functions only', () => {
    expect(parseNm(fixture('leaky.nm.txt')).map((s) => `${s.name}@${s.section}`)).toEqual([
      'init_module@.init.text',
      'leaky_create@.text',
      'leaky_create_port@.text',
      'leaky_init@.init.text',
      'leaky_ioctl@.text',
    ]);
    expect(parseNm('0000000000000120 T leaky_create\n                 U kmalloc_trace\n0000000000000000 D __this_module\n').map((s) => s.name)).toEqual([
      'leaky_create',
    ]);
    expect(parseNm('0000000000000120 0000000000000040 t leaky_create\n')[0].size).toBe(0x40n);
  });

  it('resolves raw addresses by section, including init code', () => {
    expect(map.resolve('0xffffffffc0203187')).toEqual({ caller: 'leaky_create+0x87', inModule: true });
    expect(map.resolve('0xffffffffc020a010')).toEqual({ caller: 'leaky_init+0x10', inModule: true });
    expect(map.resolve('0xffffffffc0203400')).toEqual({ caller: '0xffffffffc0203400', inModule: false });
    expect(map.resolve('0xffffffff81000000')).toEqual({ caller: '0xffffffff81000000', inModule: false });
  });

  it("after init (the cycles): an address in the freed init text is not the module's, another module may lie there", () => {
    expect(map.resolve('0xffffffffc020a010', true)).toEqual({ caller: '0xffffffffc020a010', inModule: false });
    expect(map.resolve('0xffffffffc0203187', true)).toEqual({ caller: 'leaky_create+0x87', inModule: true });
    expect(map.resolve('0xffffffffc020a010')).toEqual({ caller: 'leaky_init+0x10', inModule: true });
  });

  it('names init code after the function, not the module_init alias, whatever order nm lists them in', () => {
    const lines = fixture('leaky.nm.txt').split('\n');
    const alias = lines.findIndex((l) => l.startsWith('init_module '));
    const reordered = [...lines.slice(0, alias), ...lines.slice(alias + 1), lines[alias]].join('\n');
    const m = new ModuleMap('leaky', reordered, JSON.parse(fixture('leaky.sections.json')));
    expect(m.resolve('0xffffffffc020a010')).toEqual({ caller: 'leaky_init+0x10', inModule: true });
  });

  it('tells module symbols from the kernel', () => {
    expect(map.resolve('leaky_ioctl')).toEqual({ caller: 'leaky_ioctl', inModule: true });
    expect(map.resolve('alloc_etherdev_mqs')).toEqual({ caller: 'alloc_etherdev_mqs', inModule: false });
    expect(map.resolve('fix_nodes+0x3c/0x5a0 [reiserfs]')).toEqual({ caller: 'fix_nodes+0x3c', inModule: false });
  });

  it('without nm: [module] suffix decides when a module name is given, bare symbols are unknown', () => {
    const byName = new ModuleMap('rte-kni');
    expect(byName.resolve('kni_ioctl_create+0x5a/0x100 [rte_kni]').inModule).toBe(true);
    expect(byName.resolve('alloc_etherdev_mqs+0x2f/0x40').inModule).toBe(false);
    expect(byName.resolve('kni_ioctl_create').inModule).toBe(null);
    expect(new ModuleMap('').resolve('kni_ioctl_create+0x5a/0x100 [rte_kni]').inModule).toBe(null);
  });

  it('lists section-relative offsets of call instructions for addr2line', () => {
    expect(map.offsets(['leaky_create+0x87', 'leaky_init+0x10', 'alloc_etherdev_mqs+0x2f', 'leaky_create+0x87'])).toEqual([
      { caller: 'leaky_create+0x87', section: '.text', offset: 0x100 + 0x86 },
      { caller: 'leaky_init+0x10', section: '.init.text', offset: 0xf },
    ]);
  });

  it('refuses a section address that is not one', () => {
    expect(() => new ModuleMap('leaky', '', { '.text': 'nope' })).toThrow(/section .text: "nope" is not an address/);
  });
});
