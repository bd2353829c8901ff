// The run's tracing: a private trace instance with kprobe events (per-object pairing) and the
// function tracer (call counts, the original method) for the tracked functions, and kmem
// tracepoints for `kmalloc:kfree`. Every change is recorded in the undo log before it is made.
import { createWriteStream, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PairSpec } from '../core/model.js';
import { isKmemPair, pairName } from '../core/pair-spec.js';
import { DEFERRED_FREE, markerText, type Marker } from '../core/trace-protocol.js';
import type { Tracefs } from './tracefs.js';
import type { UndoLog } from './undo.js';

/**
 * kretprobe instances per probe: enough for many tasks per CPU to be inside the allocator at once
 * (a sleeping GFP_KERNEL allocation holds its instance); the kernel allows at most 4096.
 */
export function kretprobeMaxactive(cpus = availableParallelism()): number {
  return Math.min(4096, Math.max(128, 64 * cpus));
}
const KMEM_EVENTS = ['kmalloc', 'kmalloc_node', 'kfree'];

export interface TracedPair {
  pair: string;
  /** kprobe events `GROUP/aN` (return of the allocator) and `GROUP/fN` (entry of the releaser); absent for kmem pairs. */
  allocEvent?: string;
  freeEvent?: string;
  kmem: boolean;
}

export interface TraceSetup {
  /** tracefs-relative path of the private instance, `instances/alloc-balance-RUNID`. */
  instance: string;
  group: string;
  pairs: TracedPair[];
  /** Functions the instance's function tracer is filtered to. */
  functions: string[];
  functionTracer: boolean;
  kmemEvents: string[];
  /** The kprobe event on kvfree_call_rcu, when a kmem pair is tracked and the kernel has it. */
  deferredFreeEvent?: string;
}

export function instanceName(runId: string): string {
  return `alloc-balance-${runId}`;
}

export function kprobeGroup(runId: string): string {
  return `ab${runId}`;
}

/** Pure: the kprobe_events lines for the function pairs. */
export function kprobeDefinitions(
  pairs: PairSpec[],
  group: string,
  deferredFrees = false,
  maxactive = kretprobeMaxactive(),
): { event: string; line: string }[] {
  const out: { event: string; line: string }[] = [];
  pairs.forEach((p, i) => {
    if (isKmemPair(p)) return;
    out.push({ event: `${group}/a${i}`, line: `r${maxactive}:${group}/a${i} ${p.alloc} ret=$retval:x64` });
    out.push({ event: `${group}/f${i}`, line: `p:${group}/f${i} ${p.free} ptr=%di:x64` });
  });
  // (head, func): the object is head - func (offset of its rcu_head), or func itself when head is NULL.
  if (deferredFrees && pairs.some(isKmemPair)) out.push({ event: `${group}/rcu`, line: `p:${group}/rcu ${DEFERRED_FREE} head=%di:x64 func=%si:x64` });
  return out;
}

export function setupTracing(
  tfs: Tracefs,
  opts: { runId: string; track: PairSpec[]; traceBufferKb: number; stacks: boolean; traceable?: (fn: string) => boolean },
  undo: UndoLog,
): TraceSetup {
  const instance = `instances/${instanceName(opts.runId)}`;
  const group = kprobeGroup(opts.runId);
  const inst = (rel: string) => `${instance}/${rel}`;

  undo.push({ kind: 'rmdir', path: tfs.path(instance) });
  tfs.mkdir(instance);
  tfs.write(inst('tracing_on'), '0');
  tfs.write(inst('buffer_size_kb'), String(opts.traceBufferKb));
  // Raw addresses beside the names: the trace is read after rmmod, when a module address may be
  // named after code that lay there before (ftrace keeps the symbols of freed module init text).
  // The analysis attributes by address against the sections recorded while the module was loaded.
  if (tfs.exists(inst('options/sym-addr'))) {
    undo.push({ kind: 'restore-file', path: tfs.path(inst('options/sym-addr')), value: '0' });
    tfs.write(inst('options/sym-addr'), '1');
  }

  const defs = kprobeDefinitions(opts.track, group, opts.traceable?.(DEFERRED_FREE) ?? false);
  for (const d of defs) {
    undo.push({ kind: 'remove-kprobe', kprobeEvents: tfs.path('kprobe_events'), event: d.event });
    tfs.append('kprobe_events', `${d.line}\n`);
  }
  const pairs: TracedPair[] = opts.track.map((p, i) =>
    isKmemPair(p) ? { pair: pairName(p), kmem: true } : { pair: pairName(p), allocEvent: `${group}/a${i}`, freeEvent: `${group}/f${i}`, kmem: false },
  );

  if (defs.length > 0) {
    if (opts.stacks) {
      for (const p of pairs) {
        if (!p.allocEvent) continue;
        const trigger = tfs.path(inst(`events/${p.allocEvent}/trigger`));
        undo.push({ kind: 'remove-trigger', path: trigger, trigger: 'stacktrace' });
        tfs.write(trigger, 'stacktrace');
      }
    }
    undo.push({ kind: 'restore-file', path: tfs.path(inst(`events/${group}/enable`)), value: '0' });
    tfs.write(inst(`events/${group}/enable`), '1');
  }

  const kmemEvents: string[] = [];
  if (opts.track.some(isKmemPair)) {
    for (const ev of KMEM_EVENTS) {
      const rel = inst(`events/kmem/${ev}/enable`);
      if (!tfs.exists(rel)) continue;
      undo.push({ kind: 'restore-file', path: tfs.path(rel), value: '0' });
      tfs.write(rel, '1');
      kmemEvents.push(`kmem/${ev}`);
    }
  }

  const functions = [...new Set(opts.track.filter((p) => !isKmemPair(p)).flatMap((p) => [p.alloc, p.free]))];
  let functionTracer = false;
  if (functions.length > 0) {
    undo.push({ kind: 'restore-file', path: tfs.path(inst('set_ftrace_filter')), value: '' });
    tfs.write(inst('set_ftrace_filter'), functions.join(' '));
    undo.push({ kind: 'restore-file', path: tfs.path(inst('current_tracer')), value: 'nop' });
    tfs.write(inst('current_tracer'), 'function');
    functionTracer = true;
  }

  undo.push({ kind: 'restore-file', path: tfs.path(inst('tracing_on')), value: '0' });
  tfs.write(inst('tracing_on'), '1');
  const deferred = defs.find((d) => d.event === `${group}/rcu`);
  return { instance, group, pairs, functions, functionTracer, kmemEvents, ...(deferred ? { deferredFreeEvent: deferred.event } : {}) };
}

/** A line in the instance's buffer, in order with the events: `alloc-balance cycle=3 start`. */
export function mark(tfs: Tracefs, setup: TraceSetup, marker: Marker): void {
  tfs.write(`${setup.instance}/trace_marker`, markerText(marker));
}

/** `cpu0`, `cpu1`, ... of the instance, in numeric order. */
function perCpuDirs(tfs: Tracefs, setup: TraceSetup): string[] {
  return tfs
    .list(`${setup.instance}/per_cpu`)
    .filter((d) => /^cpu\d+$/.test(d))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
}

/**
 * Stops the instance and writes its buffer (streamed), the per-CPU stats and the kprobe
 * hit/miss counts of the run's group into outDir. Returns the file names written.
 */
export async function collectTrace(tfs: Tracefs, setup: TraceSetup, outDir: string): Promise<string[]> {
  const files: string[] = [];
  tfs.write(`${setup.instance}/tracing_on`, '0');
  await pipeline(tfs.stream(`${setup.instance}/trace`), createWriteStream(join(outDir, 'trace.txt')));
  files.push('trace.txt');
  for (const cpu of perCpuDirs(tfs, setup)) {
    writeFileSync(join(outDir, `stats-${cpu}.txt`), tfs.read(`${setup.instance}/per_cpu/${cpu}/stats`));
    files.push(`stats-${cpu}.txt`);
  }
  if (tfs.exists('kprobe_profile')) {
    // `EVENT hits misses` (the group is not printed): misses are kretprobe returns lost for
    // lack of instances, i.e. lost events.
    const ours = new Set(
      [...setup.pairs.flatMap((p) => [p.allocEvent, p.freeEvent]), setup.deferredFreeEvent].filter((e): e is string => !!e).map((e) => e.split('/')[1]),
    );
    const mine = tfs
      .read('kprobe_profile')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 3 && ours.has(f[0]))
      .map((f) => `${setup.group}/${f[0]} hits=${f[1]} misses=${f[2]}`);
    writeFileSync(join(outDir, 'kprobe-profile.txt'), mine.map((l) => `${l}\n`).join(''));
    files.push('kprobe-profile.txt');
  }
  return files;
}
