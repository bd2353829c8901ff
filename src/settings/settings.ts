// Every input of the action, parsed once into a typed settings object. Invalid values are
// refused with an InputError naming the input and what it accepts.
import { parseVmNics, type VmNics } from '../lab/vm-nics.js';
import type { FailOn, PairSpec } from '../core/model.js';
import { parseTrack } from '../core/pair-spec.js';
import { InputError } from '../errors.js';
import {
  readBool,
  readChoice,
  readNumber,
  readOptionalNumber,
  readText,
  type InputReader,
  type Target,
  type Mode,
  type InconclusiveConclusion,
  type Preset,
  type CommentWhen,
} from '../inputs/table.js';
import { readWorkload, type Workload } from '../inputs/workload.js';
import { parseDpdkKniOptions, type DpdkKniOptions } from '../presets/kni-options.js';
import { defaultKniTrack } from '../presets/kni-pairs.js';
import { KERNEL_SPEC_HINT, parseKernelSpec } from '../lab/kernel-spec.js';

export interface VmSettings {
  /** Kernel release of the VM (Debian package version), empty: the newest installed headers. */
  kernel: string;
  memoryMb: number;
  cpus: number;
  bootTimeoutSeconds: number;
  /** Host folders the guest sees read-only besides the system, the trees and the tool (absolute, or relative to the workspace). */
  folders: string[];
  /** Emulated PCI NICs in the guest (vm-nics), null: none. */
  nics: VmNics | null;
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
  workload: Workload;
  cycles: number;
  /** auto: the allocator families the built module imports, resolved per side. */
  track: 'auto' | PairSpec[];
  failOn: FailOn;
  /** The check run's conclusion for an inconclusive verdict: failure (fail) or neutral, which a required check lets pass. */
  inconclusive: InconclusiveConclusion;
  githubToken: string;
  checkName: string;
  /** When the PR comment is written: every run, when its content changes, or on fail/inconclusive only. */
  comment: CommentWhen;
  /** Path or glob of JSON reports (report mode). */
  reports: string;
  /** Explicit refs (workflow_dispatch, push); empty: from the event. */
  baseRef: string;
  headRef: string;
  prNumber: number | null;
  /** Fork PR code may be built and loaded on this runner (full or collect mode). */
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
  /** preset dpdk-kni: the DPDK tree's options (port mask, build system, module parameters). */
  dpdk: DpdkKniOptions | null;
  /** Run the shipped canary (a known leak of 1 netdev per cycle) first; not caught: inconclusive. */
  canary: boolean;
  /** The error-path sweep after each side's cycles (auto: when it fits the sweep's bound). */
  errorPaths: 'auto' | 'all' | 'off';
  /** A changed module function that never ran makes a pass inconclusive. */
  requireChangedCode: boolean;
  /** Reuse the base side's result from the Actions cache (and save a clean one). */
  baseCache: boolean;
}

export type { InputReader } from '../inputs/table.js';

export { INPUT_NAMES } from '../inputs/table.js';

const DEFAULT_TRACK = 'auto';

/** vm-kernel: a Debian kernel line or an exact release ('' is the default line). */
function readKernel(read: InputReader, name: 'vm-kernel'): string {
  const raw = readText(read, name);
  if (parseKernelSpec(raw) === null) throw new InputError(name, raw, KERNEL_SPEC_HINT);
  return raw;
}

/** One folder a line; the host's root is refused (the guest would see every secret on the machine). */
function readFolders(read: InputReader, name: 'vm-folders'): string[] {
  const raw = read(name);
  const folders = raw
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const f of folders) {
    if (/^\/+$/.test(f) || f.includes('\0')) {
      throw new InputError(name, raw, 'folders of this machine, one a line (absolute, or relative to the workspace), never / itself');
    }
  }
  return folders;
}

export function parseSettings(read: InputReader): Settings {
  const mode = readChoice<Mode>(read, 'mode');
  const preset = readChoice<Preset>(read, 'preset');
  const trackRaw = read('track').trim();
  let track: 'auto' | PairSpec[];
  try {
    track = trackRaw === '' && preset === 'dpdk-kni' ? defaultKniTrack() : parseTrack(trackRaw || DEFAULT_TRACK);
  } catch (e) {
    throw new InputError('track', trackRaw, (e as Error).message);
  }
  const target = readChoice<Target>(read, 'target');
  const settings: Settings = {
    mode,
    target,
    preset,
    moduleDir: readText(read, 'module-dir'),
    moduleName: readText(read, 'module'),
    buildCommand: readText(read, 'build-command'),
    moduleArgs: readText(read, 'module-args'),
    workload: readWorkload(read),
    cycles: readNumber(read, 'cycles'),
    track,
    failOn: readChoice<FailOn>(read, 'fail-on'),
    inconclusive: readChoice<InconclusiveConclusion>(read, 'inconclusive'),
    githubToken: readText(read, 'github-token'),
    checkName: readText(read, 'check-name'),
    comment: readChoice<CommentWhen>(read, 'comment'),
    reports: readText(read, 'reports'),
    baseRef: readText(read, 'base-ref'),
    headRef: readText(read, 'head-ref'),
    prNumber: readOptionalNumber(read, 'pr-number'),
    allowForkCode: readBool(read, 'allow-fork-code'),
    approvalLabel: readText(read, 'approval-label'),
    vm: {
      kernel: readKernel(read, 'vm-kernel'),
      memoryMb: readNumber(read, 'vm-memory'),
      cpus: readNumber(read, 'vm-cpus'),
      bootTimeoutSeconds: readNumber(read, 'boot-timeout'),
      folders: readFolders(read, 'vm-folders'),
      nics: parseVmNics(read('vm-nics')),
    },
    traceBufferKb: readNumber(read, 'trace-buffer-kb'),
    stacks: readBool(read, 'stacks'),
    timeoutMinutes: readNumber(read, 'timeout-minutes'),
    outputDir: readText(read, 'output-dir'),
    dpdk: preset === 'dpdk-kni' && mode !== 'report' ? parseDpdkKniOptions(read, target) : null,
    canary: readBool(read, 'canary'),
    errorPaths: readChoice(read, 'error-paths'),
    requireChangedCode: readBool(read, 'require-changed-code'),
    baseCache: readBool(read, 'base-cache'),
  };
  if (settings.vm.nics && target === 'host') {
    throw new InputError('vm-nics', read('vm-nics'), "nothing with target: host, which runs on this runner's own kernel and NICs (vm-nics is for target: vm)");
  }
  if (mode === 'report' && settings.reports === '') {
    throw new InputError('reports', '', 'a path or glob of JSON reports (mode: report reads them)');
  }
  if (mode !== 'report' && settings.workload.command === '' && preset === 'none') {
    throw new InputError('workload', '', 'a shell command to start and stop each cycle (or preset: dpdk-kni)');
  }
  return settings;
}
