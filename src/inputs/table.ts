// Every input of the action: its name, what action.yml declares as its default, and what it
// accepts. The one table parseSettings, the preset's options, the kernel-side job and the VM read
// (defaults, limits, signals); a test holds it against action.yml in both directions.
import { InputError } from '../errors.js';

export type InputSpec =
  | { kind: 'choice'; default: string; choices: readonly string[]; expected?: string }
  | { kind: 'number'; default: number | ''; min: number; max: number; integer: boolean; expected?: string }
  | { kind: 'bool'; default: boolean }
  /** Free text; `default` as action.yml writes it (an expression default reads as '' here). */
  | { kind: 'text'; default: string };

const choice = (def: string, choices: readonly string[], expected?: string): InputSpec => ({ kind: 'choice', default: def, choices, expected });
const whole = (def: number | '', min: number, max: number, expected?: string): InputSpec => ({
  kind: 'number',
  default: def,
  min,
  max,
  integer: true,
  expected,
});
const seconds = (def: number, min: number, max: number): InputSpec => ({ kind: 'number', default: def, min, max, integer: false });
const flag = (def: boolean): InputSpec => ({ kind: 'bool', default: def });
const text = (def = ''): InputSpec => ({ kind: 'text', default: def });

/** The signals a workload or background command may be stopped with: the input's and the kernel-side job's. */
export const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

export function isStopSignal(name: string): name is (typeof SIGNALS)[number] {
  return (SIGNALS as readonly string[]).includes(name);
}

/** Where the module runs (the target input): this machine's kernel, or a VM booted for the job. */
const TARGETS = ['host', 'vm'] as const;
export type Target = (typeof TARGETS)[number];

/** The choices of the mode, inconclusive, preset and comment inputs: the table's and the settings' types. */
const MODES = ['full', 'collect', 'report'] as const;
export type Mode = (typeof MODES)[number];
const CONCLUSIONS = ['fail', 'neutral'] as const;
export type InconclusiveConclusion = (typeof CONCLUSIONS)[number];
const PRESETS = ['none', 'dpdk-kni'] as const;
export type Preset = (typeof PRESETS)[number];
const COMMENT_WHEN = ['always', 'on-change', 'on-failure'] as const;
export type CommentWhen = (typeof COMMENT_WHEN)[number];

export const INPUTS = {
  mode: choice('full', MODES),
  target: choice('vm', TARGETS),
  preset: choice('none', PRESETS),
  'module-dir': text('.'),
  module: text(),
  'build-command': text(),
  'module-args': text(),
  workload: text(),
  'ready-pattern': text(),
  'ready-delay': seconds(1, 0, 3600),
  'ready-timeout': seconds(60, 1, 3600),
  hold: seconds(1, 0, 3600),
  'stop-signal': choice('SIGTERM', SIGNALS, `a signal name: ${SIGNALS.join(', ')}`),
  grace: seconds(10, 0, 600),
  cycles: whole(3, 1, 1000),
  track: text(),
  'fail-on': choice('new-leak', ['new-leak', 'any-leak', 'never']),
  inconclusive: choice('fail', CONCLUSIONS),
  'github-token': text('${{ github.token }}'),
  'check-name': text('alloc-balance'),
  comment: choice('always', COMMENT_WHEN),
  reports: text(),
  'base-ref': text(),
  'head-ref': text(),
  'pr-number': whole('', 1, Number.MAX_SAFE_INTEGER),
  'allow-fork-code': flag(false),
  'approval-label': text(),
  'vm-kernel': text(),
  'vm-memory': whole(1024, 256, 65536),
  'vm-cpus': whole(2, 1, 64),
  'boot-timeout': whole(120, 5, 3600),
  'vm-folders': text(),
  'vm-nics': text(),
  'trace-buffer-kb': whole(8192, 64, 1048576),
  stacks: flag(true),
  'timeout-minutes': whole(30, 1, 720),
  'output-dir': text('alloc-balance-out'),
  canary: flag(false),
  'error-paths': choice('auto', ['auto', 'all', 'off']),
  'require-changed-code': flag(false),
  'base-cache': flag(true),
  'dpdk-portmask': text(),
  'dpdk-build': choice('auto', ['auto', 'meson', 'kbuild']),
  'kni-kthread-mode': choice('single', ['single', 'multiple']),
  'kni-carrier': choice('off', ['off', 'on']),
  'dpdk-ports': choice('', ['null', 'nic']),
  'dpdk-eal-args': text(),
  'dpdk-app-args': text(),
  'dpdk-hugepages': whole('', 0, 1_000_000, 'a whole number of 2 MiB pages, e.g. 256 (0: reserve none)'),
  'dpdk-drivers': text(),
} as const satisfies Record<string, InputSpec>;

export type InputName = keyof typeof INPUTS;
export const INPUT_NAMES = Object.keys(INPUTS) as InputName[];
export type InputReader = (name: string) => string;

/** The default as action.yml writes it. */
export function actionYmlDefault(spec: InputSpec): string {
  return String(spec.default);
}

type Spec<K extends InputSpec['kind']> = Extract<InputSpec, { kind: K }>;

function spec<K extends InputSpec['kind']>(name: InputName, kind: K): Spec<K> {
  const s: InputSpec = INPUTS[name];
  if (s.kind !== kind) throw new Error(`input ${name} is a ${s.kind} input, not ${kind}`);
  return s as Spec<K>;
}

/** A choice input; `fallback` when empty (default: the table's default). */
export function readChoice<T extends string>(read: InputReader, name: InputName, fallback?: T): T {
  const s = spec(name, 'choice');
  const raw = read(name).trim();
  if (raw === '') return (fallback ?? s.default) as T;
  if (s.choices.includes(raw)) return raw as T;
  throw new InputError(name, raw, s.expected ?? `one of ${s.choices.join(', ')}`);
}

/** A number input with a default. */
export function readNumber(read: InputReader, name: InputName): number {
  const value = readOptionalNumber(read, name);
  if (value === null) throw new Error(`input ${name} has no default: read it with readOptionalNumber`);
  return value;
}

/** The table's default of a number input: the one fallback for the layers below the inputs (the job file, the VM). */
export function defaultNumber(name: InputName): number {
  return readNumber(() => '', name);
}

/** The values a number input accepts: the job file holds the same fields to the same limits. */
export function numberLimits(name: InputName): { min: number; max: number } {
  const { min, max } = spec(name, 'number');
  return { min, max };
}

/** The table's default of a choice input. */
export function defaultChoice(name: InputName): string {
  return spec(name, 'choice').default;
}

/** The table's default of a true/false input. */
export function defaultBool(name: InputName): boolean {
  return spec(name, 'bool').default;
}

/** A number input; null when empty and the table has no default. */
export function readOptionalNumber(read: InputReader, name: InputName): number | null {
  const s = spec(name, 'number');
  const raw = read(name).trim();
  if (raw === '') return s.default === '' ? null : s.default;
  const value = Number(raw);
  if (!Number.isFinite(value) || (s.integer && !Number.isInteger(value)) || value < s.min || value > s.max) {
    throw new InputError(name, raw, s.expected ?? `${s.integer ? 'a whole number' : 'a number'} from ${s.min} to ${s.max}`);
  }
  return value;
}

export function readBool(read: InputReader, name: InputName): boolean {
  const s = spec(name, 'bool');
  const raw = read(name).trim().toLowerCase();
  if (raw === '') return s.default;
  if (['true', 'yes', '1', 'on'].includes(raw)) return true;
  if (['false', 'no', '0', 'off'].includes(raw)) return false;
  throw new InputError(name, raw, 'true or false');
}

/** A text input, trimmed; empty gives the table's default unless that is an expression. */
export function readText(read: InputReader, name: InputName): string {
  const s = spec(name, 'text');
  return read(name).trim() || (s.default.startsWith('${{') ? '' : s.default);
}
