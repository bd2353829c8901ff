// The job file of `alloc-balance target run --job FILE`: everything the kernel-side runner
// needs, written by the action (host target) or by the VM driver (vm target).
import type { NicBindingJob } from './nic-binding.js';
import { defaultBool, defaultNumber, isStopSignal, numberLimits, SIGNALS } from '../inputs/table.js';
import { defaultWorkload, type Workload } from '../inputs/workload.js';
import type { PairSpec } from '../core/model.js';
import { isKernelSymbol } from '../core/pair-spec.js';
import { UsageError } from '../errors.js';
import { moduleName } from '../core/module-name.js';

/** The workload as the inputs or a preset gave it, and the folder it runs in. */
export type TargetWorkload = Workload & { cwd: string };

interface TargetModule {
  /** The .ko to insmod. */
  path: string;
  /** Name in /proc/modules (`kni_like`, `rte_kni`). */
  name: string;
  /** Module parameters, e.g. `carrier=on kthread_mode=single`. */
  args: string;
}

/**
 * A command that runs beside the workload for the whole run (e.g. other users of the allocator):
 * started before the module is loaded, stopped after it is unloaded, in its own process group.
 */
export interface TargetBackground {
  /** Shell command (`sh -c`). */
  command: string;
  cwd: string;
  env: Record<string, string>;
  /** Seconds it runs before the module is loaded; exiting within them fails the run set-up. */
  settleSeconds: number;
  stopSignal: NodeJS.Signals;
  /** SIGKILL to the process group this many seconds after stopSignal. */
  graceSeconds: number;
}

/** The error-path sweep after the cycles (core/error-paths.ts). */
export interface TargetSweep {
  /** The helper module that fails one allocation (ab_failsite.ko, built from kmod/failsite for this kernel). */
  helperPath: string;
  /** The allocators the module imports, each probed by the helper. */
  allocators: string[];
  /** `nm -f sysv` of the module under test: finds its call sites in the trace. */
  symbolsFile: string;
  /** `auto`: only when the estimate fits the bound (core/error-paths.ts); `all`: every site. Default auto. */
  bound?: 'auto' | 'all';
}

export interface TargetJob {
  module: TargetModule;
  workload: TargetWorkload;
  cycles: number;
  /** `kmalloc:kfree` traces kmem tracepoints; other names are kernel functions. */
  track: PairSpec[];
  /** Per-CPU buffer of the private trace instance. */
  traceBufferKb: number;
  /** A stack with each allocation (kretprobe stacktrace trigger). */
  stacks: boolean;
  outDir: string;
  /** Names the trace instance and the kprobe group: [A-Za-z0-9_], at most 24 characters. */
  runId: string;
  /** 2 MiB pages reserved before the cycles and given back after (previous value restored). */
  hugepages?: number;
  /** NICs handed to a user-space driver before the cycles and given back after. */
  nics?: NicBindingJob;
  /** Whole-run limit; status `timeout` past it. 0 or absent: none. */
  timeoutSeconds?: number;
  /** Exclusive lock that keeps two runs on one kernel apart. */
  lockFile?: string;
  /** Where the undo list is kept for `target cleanup --state FILE`. Default: outDir/cleanup-state.json. */
  stateFile?: string;
  /** false: the same load, cycles and unload with no tracing at all (overhead measurements). Default true. */
  tracing?: boolean;
  background?: TargetBackground;
  sweep?: TargetSweep;
  /** Module functions whose calls are counted (the ones the PR changed). */
  countCalls?: string[];
  /**
   * The helper that keeps the slab objects kernel APIs allocate for the module (ab_apiwatch.ko,
   * built from kmod/apiwatch for this kernel); `own`: the module's own allocations too (a named track's left-out allocators).
   */
  apiWatch?: { helperPath: string; own?: boolean };
  /** Read the module's areas in /proc/vmallocinfo with each snapshot (a named track's left-out vmalloc or ioremap allocators). */
  vmallocWatch?: boolean;
}

export const DEFAULT_LOCK_FILE = '/run/alloc-balance/lock';

type Json = Record<string, unknown>;

/** Reads the fields of a job file; every refusal names the field and what it takes. */
class JobReader {
  constructor(private readonly source: string) {}

  fail(field: string, expected: string, value: unknown): never {
    const shown = value === undefined ? 'missing' : `${JSON.stringify(value)} is not valid`;
    throw new UsageError(`job ${this.source}: ${field}: ${shown}; expected ${expected}`);
  }

  object(obj: Json, field: string, path: string): Json {
    const v = obj[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Json;
  }

  string(obj: Json, field: string, path: string, fallback?: string): string {
    const v = obj[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string') this.fail(path, 'a string', v);
    return v as string;
  }

  number(obj: Json, field: string, path: string, { min, max }: { min: number; max: number }, fallback?: number, integer = false): number {
    const v = obj[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(path, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`, v);
    }
    return v as number;
  }

  bool(obj: Json, field: string, path: string, fallback: boolean): boolean {
    const v = obj[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(path, 'true or false', v);
    return v as boolean;
  }

  /** A shell command: a string that is not blank. */
  command(obj: Json, field: string, path: string): string {
    const v = this.string(obj, field, path);
    if (v.trim() === '') this.fail(path, 'a shell command', v);
    return v;
  }

  /** A stop signal by name, any case. */
  signal(obj: Json, field: string, path: string, fallback: NodeJS.Signals): NodeJS.Signals {
    const v = this.string(obj, field, path, fallback).toUpperCase();
    if (!isStopSignal(v)) this.fail(path, `one of ${SIGNALS.join(', ')}`, obj[field]);
    return v as NodeJS.Signals;
  }

  /** Environment variables: an object of strings; {} when absent. */
  env(obj: Json, field: string, path: string): Record<string, string> {
    if (obj[field] === undefined) return {};
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.object(obj, field, path))) {
      if (typeof v !== 'string') this.fail(`${path}.${k}`, 'a string', v);
      env[k] = v as string;
    }
    return env;
  }

  /** A list of kernel function names. */
  symbols(list: unknown, path: string): string[] {
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || !isKernelSymbol(n))) this.fail(path, 'a list of kernel function names', list);
    return list as string[];
  }
}

function readModule(r: JobReader, j: Json): TargetModule {
  const m = r.object(j, 'module', 'module');
  const module: TargetModule = {
    path: r.string(m, 'path', 'module.path'),
    name: moduleName(r.string(m, 'name', 'module.name')),
    args: r.string(m, 'args', 'module.args', ''),
  };
  if (module.path === '') r.fail('module.path', 'the path of a .ko file', module.path);
  if (!isKernelSymbol(module.name)) r.fail('module.name', 'a module name like kni_like', module.name);
  return module;
}

/** A field left out gets the input's default, and is held to the input's limits. */
function readWorkload(r: JobReader, j: Json): TargetWorkload {
  const w = r.object(j, 'workload', 'workload');
  const d = defaultWorkload();
  const workload: TargetWorkload = {
    command: r.command(w, 'command', 'workload.command'),
    readyPattern: r.string(w, 'readyPattern', 'workload.readyPattern', ''),
    readyCommand: r.string(w, 'readyCommand', 'workload.readyCommand', ''),
    readyDelaySeconds: r.number(w, 'readyDelaySeconds', 'workload.readyDelaySeconds', numberLimits('ready-delay'), d.readyDelaySeconds),
    readyTimeoutSeconds: r.number(w, 'readyTimeoutSeconds', 'workload.readyTimeoutSeconds', numberLimits('ready-timeout'), d.readyTimeoutSeconds),
    holdSeconds: r.number(w, 'holdSeconds', 'workload.holdSeconds', numberLimits('hold'), d.holdSeconds),
    stopSignal: r.signal(w, 'stopSignal', 'workload.stopSignal', d.stopSignal),
    graceSeconds: r.number(w, 'graceSeconds', 'workload.graceSeconds', numberLimits('grace'), d.graceSeconds),
    cwd: r.string(w, 'cwd', 'workload.cwd', ''),
    env: r.env(w, 'env', 'workload.env'),
  };
  if (workload.readyPattern !== '') {
    try {
      new RegExp(workload.readyPattern);
    } catch (e) {
      r.fail('workload.readyPattern', `a valid regular expression (${(e as Error).message})`, workload.readyPattern);
    }
  }
  return workload;
}

function readTrack(r: JobReader, j: Json): PairSpec[] {
  const raw = j.track;
  if (!Array.isArray(raw) || raw.length === 0) r.fail('track', 'a non-empty list of {alloc, free}', raw);
  return (raw as unknown[]).map((p, i) => {
    if (typeof p !== 'object' || p === null) r.fail(`track[${i}]`, '{alloc, free}', p);
    const alloc = r.string(p as Json, 'alloc', `track[${i}].alloc`);
    const free = r.string(p as Json, 'free', `track[${i}].free`);
    if (!isKernelSymbol(alloc)) r.fail(`track[${i}].alloc`, 'a kernel function name', alloc);
    if (!isKernelSymbol(free)) r.fail(`track[${i}].free`, 'a kernel function name', free);
    const pair: PairSpec = { alloc, free };
    for (const key of ['moreAllocs', 'moreFrees'] as const) {
      const list = (p as Json)[key];
      if (list !== undefined) pair[key] = r.symbols(list, `track[${i}].${key}`);
    }
    const auto = (p as Json).auto;
    if (auto !== undefined && typeof auto !== 'boolean') r.fail(`track[${i}].auto`, 'true or false', auto);
    if (auto === true) pair.auto = true;
    return pair;
  });
}

function readBackground(r: JobReader, j: Json): TargetBackground {
  const b = r.object(j, 'background', 'background');
  const d = defaultWorkload();
  return {
    command: r.command(b, 'command', 'background.command'),
    cwd: r.string(b, 'cwd', 'background.cwd', ''),
    env: r.env(b, 'env', 'background.env'),
    settleSeconds: r.number(b, 'settleSeconds', 'background.settleSeconds', { min: 0, max: 3600 }, 1),
    stopSignal: r.signal(b, 'stopSignal', 'background.stopSignal', d.stopSignal),
    graceSeconds: r.number(b, 'graceSeconds', 'background.graceSeconds', numberLimits('grace'), d.graceSeconds),
  };
}

function readSweep(r: JobReader, j: Json): TargetSweep {
  const s = r.object(j, 'sweep', 'sweep');
  const allocators = r.symbols(s.allocators, 'sweep.allocators');
  const sweep: TargetSweep = {
    helperPath: r.string(s, 'helperPath', 'sweep.helperPath'),
    allocators,
    symbolsFile: r.string(s, 'symbolsFile', 'sweep.symbolsFile'),
  };
  if (s.bound !== undefined) {
    if (s.bound !== 'auto' && s.bound !== 'all') r.fail('sweep.bound', '"auto" or "all"', s.bound);
    sweep.bound = s.bound as 'auto' | 'all';
  }
  return sweep;
}

function readNics(r: JobReader, j: Json): NicBindingJob {
  const n = r.object(j, 'nics', 'nics');
  const strings = (key: 'addresses' | 'load', re: RegExp, what: string): string[] => {
    const list = n[key];
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || !re.test(x))) r.fail(`nics.${key}`, what, list);
    return list as string[];
  };
  const driver = r.string(n, 'driver', 'nics.driver');
  if (!/^[a-z0-9_]+$/.test(driver)) r.fail('nics.driver', 'a driver name such as igb_uio', driver);
  return {
    addresses: strings('addresses', /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, 'PCI addresses such as 0000:00:03.0'),
    driver,
    load: strings('load', /^[^\0\n]+$/, 'module paths or names'),
  };
}

/** Parses and checks a job file's text; throws a UsageError naming the field and the fix. */
export function parseTargetJob(text: string, source = 'file'): TargetJob {
  const r = new JobReader(source);
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`job ${source} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) r.fail('(top level)', 'an object', root);
  const j = root as Json;

  const module = readModule(r, j);
  const workload = readWorkload(r, j);
  const track = readTrack(r, j);
  const runId = r.string(j, 'runId', 'runId');
  if (!/^[A-Za-z0-9_]{1,24}$/.test(runId)) r.fail('runId', 'letters, digits and _ (at most 24)', runId);
  const job: TargetJob = {
    module,
    workload,
    cycles: r.number(j, 'cycles', 'cycles', numberLimits('cycles'), undefined, true),
    track,
    traceBufferKb: r.number(j, 'traceBufferKb', 'traceBufferKb', numberLimits('trace-buffer-kb'), defaultNumber('trace-buffer-kb'), true),
    stacks: r.bool(j, 'stacks', 'stacks', defaultBool('stacks')),
    outDir: r.string(j, 'outDir', 'outDir'),
    runId,
  };
  if (job.outDir === '') r.fail('outDir', 'a directory for the trace and logs', job.outDir);
  if (j.hugepages !== undefined) job.hugepages = r.number(j, 'hugepages', 'hugepages', numberLimits('dpdk-hugepages'), undefined, true);
  if (j.nics !== undefined) job.nics = readNics(r, j);
  if (j.timeoutSeconds !== undefined) job.timeoutSeconds = r.number(j, 'timeoutSeconds', 'timeoutSeconds', { min: 0, max: 7 * 86400 });
  if (j.lockFile !== undefined) job.lockFile = r.string(j, 'lockFile', 'lockFile');
  if (j.stateFile !== undefined) job.stateFile = r.string(j, 'stateFile', 'stateFile');
  if (j.tracing !== undefined) job.tracing = r.bool(j, 'tracing', 'tracing', true);
  if (j.background !== undefined) job.background = readBackground(r, j);
  if (j.countCalls !== undefined) {
    const list = j.countCalls;
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || !/^[A-Za-z_][\w.]*$/.test(n))) r.fail('countCalls', 'a list of function names', list);
    job.countCalls = list as string[];
  }
  if (j.apiWatch !== undefined) {
    const a = r.object(j, 'apiWatch', 'apiWatch');
    job.apiWatch = { helperPath: r.string(a, 'helperPath', 'apiWatch.helperPath'), ...(a.own === true ? { own: true } : {}) };
  }
  if (j.vmallocWatch !== undefined) job.vmallocWatch = r.bool(j, 'vmallocWatch', 'vmallocWatch', false);
  if (j.sweep !== undefined) job.sweep = readSweep(r, j);
  return job;
}
