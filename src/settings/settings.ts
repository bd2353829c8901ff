// Every input of the action, parsed once into a typed settings object. Invalid values are
// refused with an InputError naming the input and what it accepts.
import type { FailOn, PairSpec } from '../core/model.js';
import { parsePairList } from '../core/pair-spec.js';
import { InputError } from './input-error.js';
import { parseDpdkKniOptions, PRESET_INPUT_NAMES, type DpdkKniOptions } from '../presets/kni-options.js';
import { defaultKniTrack } from '../presets/kni-pairs.js';

export type Mode = 'full' | 'collect' | 'report';
export type Target = 'host' | 'vm';
export type Preset = 'none' | 'dpdk-kni';

export interface WorkloadSettings {
  /** Shell command started once per cycle (its own process group). */
  command: string;
  /** Regular expression on the workload's output that says it is ready; empty: wait `readyDelay`. */
  readyPattern: string;
  readyDelaySeconds: number;
  readyTimeoutSeconds: number;
  /** How long the workload keeps running once ready. */
  holdSeconds: number;
  stopSignal: NodeJS.Signals;
  /** SIGKILL to the whole process group after this many seconds. */
  graceSeconds: number;
}

export interface VmSettings {
  /** Kernel release of the VM (Debian package version), empty: the newest installed headers. */
  kernel: string;
  memoryMb: number;
  cpus: number;
  bootTimeoutSeconds: number;
}

export interface Settings {
  mode: Mode;
  target: Target;
  preset: Preset;
  moduleDir: string;
  /** Name of the module to load when the build makes several .ko files. */
  moduleName: string;
  /** Empty: Kbuild against the target kernel's build dir. */
  buildCommand: string;
  /** Module parameters given to insmod. */
  moduleArgs: string;
  workload: WorkloadSettings;
  cycles: number;
  track: PairSpec[];
  failOn: FailOn;
  githubToken: string;
  checkName: string;
  /** Path or glob of JSON reports (report mode). */
  reports: string;
  /** Explicit refs (workflow_dispatch, push); empty: from the event. */
  baseRef: string;
  headRef: string;
  prNumber: number | null;
  /** Fork PR code may be built and loaded on this runner in full mode. */
  allowForkCode: boolean;
  /** Label that approves one head SHA of a fork PR. */
  approvalLabel: string;
  vm: VmSettings;
  traceBufferKb: number;
  stacks: boolean;
  /** Whole-run timeout per side. */
  timeoutMinutes: number;
  /** Where the JSON report and raw traces go. */
  outputDir: string;
  /** preset dpdk-kni: the DPDK tree's options (port mask, build way, module parameters). */
  dpdk: DpdkKniOptions | null;
  /** Run the shipped canary (a known leak of 1 netdev per cycle) first; not caught: inconclusive. */
  canary: boolean;
}

export type InputReader = (name: string) => string;

export const INPUT_NAMES = [
  'mode',
  'target',
  'preset',
  'module-dir',
  'module',
  'build-command',
  'module-args',
  'workload',
  'ready-pattern',
  'ready-delay',
  'ready-timeout',
  'hold',
  'stop-signal',
  'grace',
  'cycles',
  'track',
  'fail-on',
  'github-token',
  'check-name',
  'reports',
  'base-ref',
  'head-ref',
  'pr-number',
  'allow-fork-code',
  'approval-label',
  'vm-kernel',
  'vm-memory',
  'vm-cpus',
  'boot-timeout',
  'trace-buffer-kb',
  'stacks',
  'timeout-minutes',
  'output-dir',
  'canary',
  ...PRESET_INPUT_NAMES,
] as const;

export const DEFAULT_TRACK = 'alloc_netdev_mqs:free_netdev';

function oneOf<T extends string>(read: InputReader, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(name).trim();
  if (raw === '') return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new InputError(name, raw, `one of ${allowed.join(', ')}`);
}

function number(read: InputReader, name: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = read(name).trim();
  if (raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new InputError(name, raw, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

function bool(read: InputReader, name: string, fallback: boolean): boolean {
  const raw = read(name).trim().toLowerCase();
  if (raw === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(raw)) return true;
  if (['false', 'no', '0', 'off'].includes(raw)) return false;
  throw new InputError(name, raw, 'true or false');
}

function signal(read: InputReader, name: string, fallback: NodeJS.Signals): NodeJS.Signals {
  const raw = read(name).trim().toUpperCase();
  if (raw === '') return fallback;
  const full = raw.startsWith('SIG') ? raw : `SIG${raw}`;
  const known = ['SIGINT', 'SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  if (!known.includes(full)) throw new InputError(name, raw, `a signal name: ${known.join(', ')}`);
  return full as NodeJS.Signals;
}

function regex(read: InputReader, name: string): string {
  const raw = read(name);
  if (raw === '') return '';
  try {
    new RegExp(raw);
  } catch (e) {
    throw new InputError(name, raw, `a valid regular expression (${(e as Error).message})`);
  }
  return raw;
}

export function parseSettings(read: InputReader): Settings {
  const mode = oneOf(read, 'mode', ['full', 'collect', 'report'] as const, 'full');
  const preset = oneOf(read, 'preset', ['none', 'dpdk-kni'] as const, 'none');
  const trackRaw = read('track').trim();
  let track: PairSpec[];
  try {
    track = trackRaw === '' && preset === 'dpdk-kni' ? defaultKniTrack() : parsePairList(trackRaw || DEFAULT_TRACK);
  } catch (e) {
    throw new InputError('track', trackRaw, (e as Error).message);
  }
  const target = oneOf(read, 'target', ['host', 'vm'] as const, 'vm');
  const prRaw = read('pr-number').trim();
  const settings: Settings = {
    mode,
    target,
    preset,
    moduleDir: read('module-dir').trim() || '.',
    moduleName: read('module').trim(),
    buildCommand: read('build-command').trim(),
    moduleArgs: read('module-args').trim(),
    workload: {
      command: read('workload').trim(),
      readyPattern: regex(read, 'ready-pattern'),
      readyDelaySeconds: number(read, 'ready-delay', 1, 0, 3600, false),
      readyTimeoutSeconds: number(read, 'ready-timeout', 60, 1, 3600, false),
      holdSeconds: number(read, 'hold', 1, 0, 3600, false),
      stopSignal: signal(read, 'stop-signal', 'SIGTERM'),
      graceSeconds: number(read, 'grace', 10, 0, 600, false),
    },
    cycles: number(read, 'cycles', 3, 1, 1000),
    track,
    failOn: oneOf(read, 'fail-on', ['new-leak', 'any-leak', 'never'] as const, 'new-leak'),
    githubToken: read('github-token').trim(),
    checkName: read('check-name').trim() || 'alloc-balance',
    reports: read('reports').trim(),
    baseRef: read('base-ref').trim(),
    headRef: read('head-ref').trim(),
    prNumber: prRaw === '' ? null : number(read, 'pr-number', 0, 1, Number.MAX_SAFE_INTEGER),
    allowForkCode: bool(read, 'allow-fork-code', false),
    approvalLabel: read('approval-label').trim(),
    vm: {
      kernel: read('vm-kernel').trim(),
      memoryMb: number(read, 'vm-memory', 1024, 256, 65536),
      cpus: number(read, 'vm-cpus', 2, 1, 64),
      bootTimeoutSeconds: number(read, 'boot-timeout', 120, 5, 3600),
    },
    traceBufferKb: number(read, 'trace-buffer-kb', 8192, 64, 1048576),
    stacks: bool(read, 'stacks', true),
    timeoutMinutes: number(read, 'timeout-minutes', 30, 1, 720),
    outputDir: read('output-dir').trim() || 'alloc-balance-out',
    dpdk: preset === 'dpdk-kni' && mode !== 'report' ? parseDpdkKniOptions(read, target) : null,
    canary: bool(read, 'canary', false),
  };
  if (mode === 'report' && settings.reports === '') {
    throw new InputError('reports', '', 'a path or glob of JSON reports (mode: report reads them)');
  }
  if (mode !== 'report' && settings.workload.command === '' && preset === 'none') {
    throw new InputError('workload', '', 'a shell command to start and stop each cycle (or preset: dpdk-kni)');
  }
  return settings;
}
