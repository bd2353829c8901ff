import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/settings/settings.js';
import { InputError } from '../../src/errors.js';

function reader(inputs: Record<string, string>) {
  return (name: string) => inputs[name] ?? '';
}

describe('parseSettings', () => {
  it('fills defaults around the one required input', () => {
    const s = parseSettings(reader({ workload: './app 2' }));
    expect(s.mode).toBe('full');
    expect(s.target).toBe('vm');
    expect(s.cycles).toBe(3);
    expect(s.failOn).toBe('new-leak');
    expect(s.track).toBe('auto');
    expect(s.workload).toMatchObject({ command: './app 2', stopSignal: 'SIGTERM', graceSeconds: 10 });
    expect(s.checkName).toBe('alloc-balance');
  });

  it('reads several pairs separated by commas and new lines', () => {
    const s = parseSettings(reader({ workload: 'x', track: 'alloc_netdev_mqs:free_netdev,\nkmalloc:kfree' }));
    expect(s.track).toEqual([
      { alloc: 'alloc_netdev_mqs', free: 'free_netdev' },
      { alloc: 'kmalloc', free: 'kfree' },
    ]);
  });

  it('track: auto asks for the families of the module; a preset keeps its own pairs', () => {
    expect(parseSettings(reader({ workload: 'x', track: ' auto ' })).track).toBe('auto');
    expect(parseSettings(reader({ workload: 'x', track: 'kmem_cache_alloc:kmem_cache_free' })).track).toEqual([
      { alloc: 'kmem_cache_alloc', free: 'kmem_cache_free' },
    ]);
  });

  it('vm-kernel: a Debian line or an exact release; anything else names the input and what it takes', () => {
    expect(parseSettings(reader({ workload: 'x', 'vm-kernel': '5.10' })).vm.kernel).toBe('5.10');
    expect(parseSettings(reader({ workload: 'x', 'vm-kernel': '6.12.118+deb12-amd64' })).vm.kernel).toBe('6.12.118+deb12-amd64');
    expect(parseSettings(reader({ workload: 'x' })).vm.kernel).toBe('');
    expect(() => parseSettings(reader({ workload: 'x', 'vm-kernel': '6.8.0-45-generic' }))).toThrow(
      'input "vm-kernel": "6.8.0-45-generic" is not valid; expected a Debian kernel line (5.10, 6.1, 6.12) or an exact release',
    );
  });

  it('accepts signal names with or without SIG', () => {
    expect(parseSettings(reader({ workload: 'x', 'stop-signal': 'int' })).workload.stopSignal).toBe('SIGINT');
  });

  it.each([
    [{ mode: 'everything' }, 'mode', /one of full, collect, report/],
    [{ target: 'cloud' }, 'target', /one of host, vm/],
    [{ cycles: '0' }, 'cycles', /whole number from 1 to 1000/],
    [{ cycles: 'three' }, 'cycles', /whole number/],
    [{ track: 'alloc_netdev_mqs' }, 'track', /ALLOC:FREE/],
    [{ track: 'alloc_netdev_mqs:free_netdev alloc_netdev_mqs:free_netdev' }, 'track', /alloc_netdev_mqs:free_netdev is listed twice: list each pair once/],
    [{ track: 'kmalloc:kfree,kstrdup:kfree' }, 'track', /kfree is in two pairs \(kmalloc:kfree, kstrdup:kfree\): a function can be traced in one pair only/],
    [{ track: 'kmalloc:kmalloc' }, 'track', /kmalloc:kmalloc names kmalloc as both allocator and releaser/],
    [
      { track: 'kmalloc:free_netdev' },
      'track',
      new RegExp(
        /free_netdev releases net devices, kmalloc allocates slab objects \(kmalloc, kmem_cache\), /.source +
          /which kfree or kmem_cache_free or kvfree release: write kmalloc:kfree/.source,
      ),
    ],
    [{ track: 'kfree:kmalloc' }, 'track', /kfree releases objects, it does not allocate them: write the allocator first/],
    [{ track: 'auto, kmalloc:kfree' }, 'track', /auto stands alone/],
    [{ 'fail-on': 'sometimes' }, 'fail-on', /new-leak, any-leak, never/],
    [{ inconclusive: 'pass' }, 'inconclusive', /one of fail, neutral/],
    [{ 'stop-signal': 'SIGFOO' }, 'stop-signal', /signal name/],
    [{ 'ready-pattern': '(' }, 'ready-pattern', /regular expression/],
    [{ 'allow-fork-code': 'maybe' }, 'allow-fork-code', /true or false/],
  ])('refuses %o naming the input', (bad, input, expected) => {
    let error: unknown;
    try {
      parseSettings(reader({ workload: 'x', ...bad }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(input);
    expect((error as Error).message).toMatch(`input "${input}"`);
    expect((error as Error).message).toMatch(expected);
  });

  it('needs a workload unless a preset brings one, and reports in report mode', () => {
    expect(() => parseSettings(reader({}))).toThrow(/input "workload": missing/);
    expect(parseSettings(reader({ preset: 'dpdk-kni', 'dpdk-portmask': '0x3' })).preset).toBe('dpdk-kni');
    expect(() => parseSettings(reader({ preset: 'dpdk-kni' }))).toThrow(/input "dpdk-portmask": missing/);
    expect(() => parseSettings(reader({ mode: 'report' }))).toThrow(/input "reports": missing/);
    expect(parseSettings(reader({ mode: 'report', reports: 'reports/*.json' })).reports).toBe('reports/*.json');
  });
});
