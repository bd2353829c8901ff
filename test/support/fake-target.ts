// A kernel-side run's machine without a kernel: tracefs in memory and a TargetSystem whose
// module, kernel log, /proc files and workload are what the test says.
import { Readable } from 'node:stream';
import type { CommandResult } from '../../src/process/run.js';
import type { CycleRecord } from '../../src/kernel-side/workload.js';
import type { TargetSystem } from '../../src/kernel-side/target-system.js';
import { Tracefs, TracefsError } from '../../src/kernel-side/tracefs.js';
import type { UndoStep } from '../../src/kernel-side/undo.js';

/**
 * tracefs as a map of files. A trace instance made with mkdir has the top level's events, as the
 * kernel's do; `refuse` makes writes to a file fail as the kernel refuses them.
 */
export class MemoryTracefs extends Tracefs {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(['instances']);
  readonly refuse = new Set<string>();

  constructor(files: Record<string, string> = {}) {
    super('/fake/tracing');
    for (const [k, v] of Object.entries(files)) this.files.set(k, v);
  }

  private rel(p: string): string {
    return p.startsWith(`${this.root}/`) ? p.slice(this.root.length + 1) : p;
  }

  /** `instances/X/events/...` stands for the top level's `events/...` once X exists. */
  private topLevel(rel: string): string {
    const m = /^instances\/([^/]+)\/(events\/.*)$/.exec(rel);
    return m && this.dirs.has(`instances/${m[1]}`) ? m[2] : rel;
  }

  override exists(p: string): boolean {
    const rel = this.rel(p);
    const has = (r: string) => this.files.has(r) || this.dirs.has(r) || [...this.files.keys()].some((k) => k.startsWith(`${r}/`));
    return has(rel) || has(this.topLevel(rel));
  }

  override read(p: string): string {
    const v = this.files.get(this.rel(p));
    if (v === undefined) throw new Error(`ENOENT: ${p}`);
    return v;
  }

  override list(p: string): string[] {
    const rel = this.rel(p);
    const names = [...this.files.keys(), ...this.dirs].filter((k) => k.startsWith(`${rel}/`)).map((k) => k.slice(rel.length + 1).split('/')[0]);
    return [...new Set(names)];
  }

  override write(p: string, text: string): void {
    this.check(p, text);
    this.files.set(this.rel(p), text);
  }

  override append(p: string, text: string): void {
    this.check(p, text);
    this.files.set(this.rel(p), (this.files.get(this.rel(p)) ?? '') + text);
  }

  override mkdir(p: string): void {
    this.check(p, '(mkdir)');
    this.dirs.add(this.rel(p));
  }

  override rmdir(p: string): void {
    this.dirs.delete(this.rel(p));
  }

  override stream(p: string): NodeJS.ReadableStream {
    return Readable.from([this.files.get(this.rel(p)) ?? '']);
  }

  private check(p: string, text: string): void {
    if (this.refuse.has(this.rel(p))) throw new TracefsError(`${p}: writing ${JSON.stringify(text.trim())} failed (EINVAL)`);
  }
}

/** A tracefs with kmalloc/kfree tracepoints and the given traceable functions. */
export function kernelTracefs(functions: string[] = []): MemoryTracefs {
  const events = ['kmalloc', 'kmalloc_node', 'kfree', 'kmem_cache_alloc', 'kmem_cache_alloc_node', 'kmem_cache_free'];
  return new MemoryTracefs({
    available_filter_functions: functions.map((f) => `${f}\n`).join(''),
    ...Object.fromEntries(events.map((e) => [`events/kmem/${e}/enable`, '0'])),
    ...Object.fromEntries(events.map((e) => [`events/kmem/${e}/trigger`, ''])),
  });
}

export const FAKE_RELEASE = '6.1.0-fake-amd64';

export function commandResult(code: number, stderr = ''): CommandResult {
  return { code, signal: null, stdout: '', stderr, output: stderr, seconds: 0 };
}

export function cycleRecord(cycle: number): CycleRecord {
  return {
    cycle,
    startedAt: new Date(0).toISOString(),
    readySeconds: 0,
    heldSeconds: 0,
    stopSeconds: 0,
    totalSeconds: 0,
    exitCode: 0,
    exitSignal: null,
    killed: false,
    exitedDuringHold: false,
    log: `workload-${cycle}.log`,
  };
}

export interface FakeTarget extends TargetSystem {
  tfs: MemoryTracefs;
  /** Calls in order: `insmod NAME`, `rmmod NAME`, `cycle N`, `undo KIND`. */
  calls: string[];
  /** Undo steps carried out, in order. */
  undone: UndoStep[];
  /** The kernel log the run reads (all of it, whatever the mark). */
  kmsg: string[];
  loaded: Set<string>;
}

/** A machine where everything works: override what a test is about. */
export function fakeTarget(tfs: MemoryTracefs = kernelTracefs(), overrides: Partial<TargetSystem> = {}): FakeTarget {
  const calls: string[] = [];
  const undone: UndoStep[] = [];
  const kmsg: string[] = [];
  const loaded = new Set<string>();
  const fake: FakeTarget = {
    tfs,
    calls,
    undone,
    kmsg,
    loaded,
    kernelRelease: () => FAKE_RELEASE,
    readProc: (file) => {
      if (file === 'slabinfo') return 'slabinfo - version: 2.1\nkmalloc-64 10 10 64 64 1\n';
      if (file === 'modules') return [...loaded].map((m) => `${m} 16384 0 - Live 0xffffffffc0a00000\n`).join('');
      return 'ffffffff81000000 T kasprintf\nffffffff81000100 T kvasprintf\n';
    },
    tracefs: () => tfs,
    readKprobeBlacklist: () => '',
    acquireLock: () => ({}),
    isModuleLoaded: (name) => loaded.has(name),
    readVermagic: async () => `${FAKE_RELEASE} SMP preempt mod_unload modversions `,
    insmod: async (path) => {
      const name = path.replace(/^.*\//, '').replace(/\.ko$/, '').replace(/-/g, '_');
      calls.push(`insmod ${name}`);
      loaded.add(name);
      return commandResult(0);
    },
    unloadModule: async (name) => {
      calls.push(`rmmod ${name}`);
      loaded.delete(name);
      return { ok: true };
    },
    readSections: () => ({ '.text': '0xffffffffc0a00000', '.data': '0xffffffffc0a02000' }),
    kmsgMark: () => 0,
    dmesg: () => kmsg.join('\n'),
    prepareHugepages: async () => [],
    bindNics: async (job, undo) => {
      calls.push(`bind ${job.addresses.join(' ')} to ${job.driver}`);
      for (const address of job.addresses) undo.push({ kind: 'pci-unbind', address, driver: job.driver });
      return [`bound ${job.addresses.join(', ')} to ${job.driver}`];
    },
    startBackground: async () => {
      throw new Error('no background in this fake');
    },
    runCycle: async (_w, n, _outDir, _undo, _abort, started) => {
      calls.push(`cycle ${n}`);
      const record = cycleRecord(n);
      started(record);
      return record;
    },
    undo: {
      run: async (step) => {
        calls.push(`undo ${step.kind}`);
        undone.push(step);
      },
    },
  };
  return Object.assign(fake, overrides);
}
