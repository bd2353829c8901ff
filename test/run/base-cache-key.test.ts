// The base cache key: every input that changes what the base measures changes it; what only
// judges or publishes does not, so a re-run with another fail-on still finds its base.
import { describe, expect, test } from 'vitest';
import { parseSettings } from '../../src/settings/settings.js';
import { baseCacheKey, type BaseCacheKeyInput } from '../../src/run/base-cache-key.js';

const BASE = { workload: './app -n 2', 'ready-pattern': '^ready' };
const settingsOf = (inputs: Record<string, string>) => parseSettings((name) => ({ ...BASE, ...inputs })[name] ?? '');
const INPUT: BaseCacheKeyInput = {
  baseSha: '9f2c1e0b7d4a3c58e6f1a2b3c4d5e6f708192a3b',
  kernel: '6.1.0-57-amd64',
  actionVersion: '0.1.0+0123456789abcdef',
  foldersDigest: '',
  machine: '',
};
const keyOf = (inputs: Record<string, string>, input: Partial<BaseCacheKeyInput> = {}) => baseCacheKey(settingsOf(inputs), { ...INPUT, ...input });

describe('baseCacheKey', () => {
  test('names the kernel and the base commit, and is the same for the same measurement', () => {
    const key = keyOf({});
    expect(key).toMatch(/^alloc-balance-base-v1-6\.1\.0-57-amd64-9f2c1e0b7d4a-[0-9a-f]{24}$/);
    expect(keyOf({})).toBe(key);
    // Spelled differently, the same settings.
    expect(keyOf({ 'stop-signal': 'term', cycles: '3' })).toBe(key);
  });

  test.each([
    ['base commit', {}, { baseSha: '1111111111111111111111111111111111111111' }],
    ['kernel', {}, { kernel: '6.12.117+deb13-amd64' }],
    ['action version', {}, { actionVersion: '0.1.1+0123456789abcdef' }],
    ['bundle of the same version', {}, { actionVersion: '0.1.0+fedcba9876543210' }],
    ['vm-folders contents', {}, { foldersDigest: 'aaaaaaaaaaaaaaaaaaaaaaaa' }],
    ['target', { target: 'host' }, {}],
    ['module-dir', { 'module-dir': 'driver' }, {}],
    ['module', { module: 'kni_like' }, {}],
    ['build-command', { 'build-command': 'make W=1' }, {}],
    ['module-args', { 'module-args': 'carrier=on' }, {}],
    ['workload', { workload: './app -n 4' }, {}],
    ['ready-pattern', { 'ready-pattern': '^go' }, {}],
    ['hold', { hold: '2' }, {}],
    ['stop-signal', { 'stop-signal': 'SIGINT' }, {}],
    ['cycles', { cycles: '5' }, {}],
    ['track', { track: 'kmalloc:kfree' }, {}],
    ['stacks', { stacks: 'false' }, {}],
    ['error-paths', { 'error-paths': 'off' }, {}],
    ['trace-buffer-kb', { 'trace-buffer-kb': '16384' }, {}],
    ['vm-memory', { 'vm-memory': '2048' }, {}],
    ['vm-cpus', { 'vm-cpus': '4' }, {}],
    ['vm-folders', { 'vm-folders': '/opt/workload' }, {}],
    ['preset', { preset: 'dpdk-kni', workload: '', 'dpdk-portmask': '0x3' }, {}],
  ])('changes with the %s', (_what, inputs: Record<string, string>, input: Partial<BaseCacheKeyInput>) => {
    expect(keyOf(inputs, input)).not.toBe(keyOf({}));
  });

  test("changes with the preset's options", () => {
    const kni = (portmask: string) => keyOf({ preset: 'dpdk-kni', workload: '', 'dpdk-portmask': portmask });
    expect(kni('0x3')).not.toBe(kni('0x1'));
  });

  test.each([
    ['fail-on', { 'fail-on': 'any-leak' }],
    ['inconclusive', { inconclusive: 'neutral' }],
    ['check-name', { 'check-name': 'leaks' }],
    ['github-token', { 'github-token': 'ghs_x' }],
    ['timeout-minutes', { 'timeout-minutes': '60' }],
    ['canary', { canary: 'true' }],
    ['output-dir', { 'output-dir': 'out' }],
    ['mode', { mode: 'collect' }],
  ])('stays with the %s (it judges or publishes, the measurement is the same)', (_what, inputs: Record<string, string>) => {
    expect(keyOf(inputs)).toBe(keyOf({}));
  });

  test('on target host the runner counts: its devices are part of the measurement', () => {
    expect(keyOf({ target: 'host' }, { machine: 'nic-runner-1' })).not.toBe(keyOf({ target: 'host' }, { machine: 'nic-runner-2' }));
  });

  test('on target host the VM settings do not count', () => {
    expect(keyOf({ target: 'host', 'vm-memory': '4096', 'vm-cpus': '8' })).toBe(keyOf({ target: 'host' }));
  });
});
