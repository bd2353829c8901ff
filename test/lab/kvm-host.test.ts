// The udev change as it is run: each command through sudo -n, the rule on tee's standard input,
// the first failing command named with its error. A stand-in sudo on PATH records the calls, so
// nothing on this machine changes.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { KVM_UDEV_RULE, KVM_UDEV_RULE_FILE } from '../../src/lab/kvm-access.js';
import { hostKvmIo } from '../../src/lab/kvm-host.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir('alloc-balance-kvm-');
const calls = join(dir, 'calls');
const input = join(dir, 'input');
const path = process.env.PATH;
afterEach(() => {
  process.env.PATH = path;
  rmSync(calls, { force: true });
  rmSync(input, { force: true });
});

/** A sudo that records its arguments and tee's input, and fails on `failOn` with a udevadm-like error. */
function fakeSudo(failOn = ''): void {
  const script = [
    '#!/bin/sh',
    `echo "$*" >> ${calls}`,
    `if [ "$2" = tee ]; then cat > ${input}; fi`,
    `if [ -n "${failOn}" ] && [ "$3" = "${failOn}" ]; then echo "Failed to send reload request: No such file or directory" >&2; exit 1; fi`,
    'exit 0',
  ].join('\n');
  writeFileSync(join(dir, 'sudo'), `${script}\n`);
  chmodSync(join(dir, 'sudo'), 0o755);
  process.env.PATH = `${dir}:${path}`;
}

const RUNNER = { uid: 1001, gid: 118 };

test('the rule through sudo -n tee, then reload, trigger and settle', () => {
  fakeSudo();
  const io = hostKvmIo(RUNNER, () => {});
  expect(io.canEscalate()).toBe(true);
  expect(io.openWithUdev()).toBeNull();
  expect(readFileSync(calls, 'utf8').split('\n')).toEqual([
    '-n true',
    `-n tee ${KVM_UDEV_RULE_FILE}`,
    '-n udevadm control --reload-rules',
    '-n udevadm trigger --name-match=kvm',
    '-n udevadm settle --timeout=10',
    '',
  ]);
  expect(readFileSync(input, 'utf8')).toBe(`${KVM_UDEV_RULE}\n`);
});

test('a failing command stops the change and is named with its error', () => {
  fakeSudo('control');
  expect(hostKvmIo(RUNNER, () => {}).openWithUdev()).toBe('sudo -n udevadm control --reload-rules: Failed to send reload request: No such file or directory');
  expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(2);
});

test('no sudo on PATH: no way to root', () => {
  process.env.PATH = dir;
  rmSync(join(dir, 'sudo'), { force: true });
  expect(hostKvmIo(RUNNER, () => {}).canEscalate()).toBe(false);
  expect(hostKvmIo(RUNNER, () => {}).openWithUdev()).toBe(`sudo -n tee ${KVM_UDEV_RULE_FILE}: ENOENT`);
});
