// The run's tracing: a private trace instance with kprobe events (per-object pairing) and the
// function tracer (call counts, the original method) for the tracked functions, and kmem
// tracepoints for `kmalloc:kfree`. Every change is recorded in the undo log before it is made.
import { createWriteStream, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PairSpec } from '../core/model.js';
import { allocatorsOf, isCountedAllocator, isKmemPair, isSlabEvent, objectArg, releasersOf } from '../core/allocator-families.js';
import { pairName } from '../core/pair-spec.js';
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

export interface TracedPair {
  pair: string;
  /**
   * kprobe events: `GROUP/aN` on the return of pair N's allocator, `GROUP/aN_J` of its J-th
   * further allocator; `GROUP/fN`, `GROUP/fN_J` on the entry of its releasers. A kmem pair has
   * probes only for the names that are not tracepoints.
   */
  allocEvents: string[];
  freeEvents: string[];
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
  /** The pairs as traced (track: auto: without the names this kernel cannot trace). */
  track: PairSpec[];
  /** What could not be traced and was left out (track: auto only), a sentence each. */
  notes: string[];
  /** kmem helpers whose kmallocs need a stack to be attributed to the module (they could not be probed). */
  stackAttributed: string[];
}

function instanceName(runId: string): string {
  return `alloc-balance-${runId}`;
}

function kprobeGroup(runId: string): string {
  return `ab${runId}`;
}

const ARG_REGISTER = { 1: '%di', 2: '%si', 3: '%dx' } as const;

/** Which names of a pair are probed: all but a kmem pair's tracepoints; none of a counted pair (its allocator returns a status). */
function probed(p: PairSpec, names: string[]): (string | null)[] {
  if (isCountedAllocator(p.alloc)) return names.map(() => null);
  return names.map((n) => (isKmemPair(p) && isSlabEvent(n) ? null : n));
}

function probeEvent(group: string, role: 'a' | 'f', pair: number, index: number): string {
  return `${group}/${role}${pair}${index === 0 ? '' : `_${index}`}`;
}

/** A kprobe_events line and the event it defines (group/name). */
interface KprobeDefinition {
  event: string;
  line: string;
}

/** Pure: the kprobe_events lines for the pairs. The object is the allocator's return value and the releaser's argument the family table names. */
export function kprobeDefinitions(pairs: PairSpec[], group: string, deferredFrees = false, maxactive = kretprobeMaxactive()): KprobeDefinition[] {
  const out: KprobeDefinition[] = [];
  pairs.forEach((p, i) => {
    probed(p, allocatorsOf(p)).forEach((fn, j) => {
      if (fn === null) return;
      const event = probeEvent(group, 'a', i, j);
      out.push({ event, line: `r${maxactive}:${event} ${fn} ret=$retval:x64` });
    });
    probed(p, releasersOf(p)).forEach((fn, j) => {
      if (fn === null) return;
      const event = probeEvent(group, 'f', i, j);
      out.push({ event, line: `p:${event} ${fn} ptr=${ARG_REGISTER[objectArg(fn)]}:x64` });
    });
  });
  // (head, func): the object is head - func (offset of its rcu_head), or func itself when head is NULL.
  if (deferredFrees && pairs.some(isKmemPair)) out.push({ event: `${group}/rcu`, line: `p:${group}/rcu ${DEFERRED_FREE} head=%di:x64 func=%si:x64` });
  return out;
}

/** The kmem tracepoints a kmem pair's names stand for (`kmalloc` with `kmalloc_node`). */
export function kmemEventNames(pairs: PairSpec[]): string[] {
  const names = pairs.filter(isKmemPair).flatMap((p) => [...allocatorsOf(p), ...releasersOf(p)].filter(isSlabEvent));
  return [...new Set(names.flatMap((n) => (n.startsWith('kmem_cache_free') || n === 'kfree' ? [n] : [n, `${n}_node`])))];
}

/**
 * Pure: pairs found by track: auto lose the names this kernel cannot trace (not in
 * available_filter_functions, or no such tracepoint), each said in a note; a pair left without
 * allocator or releaser is dropped. Pairs the user named are checked before, and refused.
 */
export function traceablePairs(
  pairs: PairSpec[],
  canTrace: (fn: string, asTracepoint: boolean) => boolean,
): { track: PairSpec[]; notes: string[]; stackAttributed: string[] } {
  const notes: string[] = [];
  const track: PairSpec[] = [];
  const stackAttributed: string[] = [];
  for (const p of pairs) {
    if (!p.auto) {
      track.push(p);
      continue;
    }
    const keep = (names: string[]) => names.filter((n) => canTrace(n, isKmemPair(p) && isSlabEvent(n)));
    const allocs = keep(allocatorsOf(p));
    const frees = keep(releasersOf(p));
    let lost = [...allocatorsOf(p), ...releasersOf(p)].filter((n) => !allocs.includes(n) && !frees.includes(n));
    // A kmem pair's helper that cannot be probed still allocates through a kmem tracepoint, one
    // call down: its kmallocs are attributed by their stack instead (the kernel side records it).
    if (isKmemPair(p)) {
      const helpers = lost.filter((n) => allocatorsOf(p).includes(n));
      stackAttributed.push(...helpers);
      lost = lost.filter((n) => !helpers.includes(n));
    }
    if (allocs.length === 0 || frees.length === 0) {
      notes.push(`track auto: ${pairName(p)} is not traced: this kernel cannot trace ${lost.join(', ')}; its objects are not counted`);
      continue;
    }
    if (lost.length > 0) notes.push(`track auto: ${pairName(p)} is traced without ${lost.join(', ')}, which this kernel cannot trace`);
    const helpers = stackAttributed.filter((n) => allocatorsOf(p).includes(n));
    if (helpers.length > 0) notes.push(`track auto: ${helpers.join(', ')} cannot be probed on this kernel: its allocations are attributed by their stack`);
    const q: PairSpec = { alloc: allocs[0], free: frees[0], auto: true };
    if (allocs.length > 1) q.moreAllocs = allocs.slice(1);
    if (frees.length > 1) q.moreFrees = frees.slice(1);
    track.push(q);
  }
  return { track, notes, stackAttributed };
}

/** The changes one step of the set-up makes: to the trace instance (`inst`), recorded first in the undo log. */
interface SetupStep {
  tfs: Tracefs;
  undo: UndoLog;
  inst: (rel: string) => string;
}

export function setupTracing(
  tfs: Tracefs,
  opts: {
    runId: string;
    track: PairSpec[];
    traceBufferKb: number;
    stacks: boolean;
    /** In available_filter_functions: the function tracer and kprobes can take it. */
    traceable?: (fn: string) => boolean;
  },
  undo: UndoLog,
): TraceSetup {
  const instance = `instances/${instanceName(opts.runId)}`;
  const group = kprobeGroup(opts.runId);
  const step: SetupStep = { tfs, undo, inst: (rel: string) => `${instance}/${rel}` };
  makeInstance(step, instance, opts.traceBufferKb);
  const { track, notes, stackAttributed } = traceablePairs(opts.track, (fn, asTracepoint) =>
    asTracepoint ? tfs.exists(step.inst(`events/kmem/${fn}`)) : (opts.traceable?.(fn) ?? true),
  );
  const defs = kprobeDefinitions(track, group, opts.traceable?.(DEFERRED_FREE) ?? false);
  const pairs = enableProbes(step, group, track, defs, opts.stacks);
  const kmemEvents = track.some(isKmemPair) ? enableKmemEvents(step, track) : [];
  const functions = [...new Set(track.filter((p) => !isKmemPair(p)).flatMap((p) => [...allocatorsOf(p), ...releasersOf(p)]))];
  if (functions.length > 0) startFunctionTracer(step, functions);
  undo.push({ kind: 'restore-file', path: tfs.path(step.inst('tracing_on')), value: '0' });
  tfs.write(step.inst('tracing_on'), '1');
  const deferred = defs.find((d) => d.event === `${group}/rcu`);
  return {
    instance,
    group,
    pairs,
    functions,
    functionTracer: functions.length > 0,
    kmemEvents,
    track,
    notes,
    stackAttributed,
    ...(deferred ? { deferredFreeEvent: deferred.event } : {}),
  };
}

/** The run's own trace instance, off, with its buffer size and raw addresses beside the names. */
function makeInstance({ tfs, undo, inst }: SetupStep, instance: string, bufferKb: number): void {
  undo.push({ kind: 'rmdir', path: tfs.path(instance) });
  tfs.mkdir(instance);
  tfs.write(inst('tracing_on'), '0');
  tfs.write(inst('buffer_size_kb'), String(bufferKb));
  // Raw addresses beside the names: the trace is read after rmmod, when a module address may be
  // named after code that lay there before (ftrace keeps the symbols of freed module init text).
  // The analysis attributes by address against the sections recorded while the module was loaded.
  if (tfs.exists(inst('options/sym-addr'))) {
    undo.push({ kind: 'restore-file', path: tfs.path(inst('options/sym-addr')), value: '0' });
    tfs.write(inst('options/sym-addr'), '1');
  }
}

/** The kprobes defined and enabled in the instance (a stack trace on each allocation with `stacks`); each pair with the events defined for it. */
function enableProbes({ tfs, undo, inst }: SetupStep, group: string, track: PairSpec[], defs: KprobeDefinition[], stacks: boolean): TracedPair[] {
  for (const d of defs) {
    undo.push({ kind: 'remove-kprobe', kprobeEvents: tfs.path('kprobe_events'), event: d.event });
    tfs.append('kprobe_events', `${d.line}\n`);
  }
  const defined = new Set(defs.map((d) => d.event));
  const pairs: TracedPair[] = track.map((p, i) => ({
    pair: pairName(p),
    allocEvents: allocatorsOf(p)
      .map((_, j) => probeEvent(group, 'a', i, j))
      .filter((e) => defined.has(e)),
    freeEvents: releasersOf(p)
      .map((_, j) => probeEvent(group, 'f', i, j))
      .filter((e) => defined.has(e)),
    kmem: isKmemPair(p),
  }));
  if (defs.length === 0) return pairs;
  if (stacks) {
    for (const event of pairs.flatMap((p) => p.allocEvents)) {
      const trigger = tfs.path(inst(`events/${event}/trigger`));
      undo.push({ kind: 'remove-trigger', path: trigger, trigger: 'stacktrace' });
      tfs.write(trigger, 'stacktrace');
    }
  }
  undo.push({ kind: 'restore-file', path: tfs.path(inst(`events/${group}/enable`)), value: '0' });
  tfs.write(inst(`events/${group}/enable`), '1');
  return pairs;
}

/** The kmem tracepoints the kmem pairs need, those this kernel has, enabled in the instance. */
function enableKmemEvents({ tfs, undo, inst }: SetupStep, track: PairSpec[]): string[] {
  const enabled: string[] = [];
  for (const ev of kmemEventNames(track)) {
    const rel = inst(`events/kmem/${ev}/enable`);
    if (!tfs.exists(rel)) continue;
    undo.push({ kind: 'restore-file', path: tfs.path(rel), value: '0' });
    tfs.write(rel, '1');
    enabled.push(`kmem/${ev}`);
  }
  return enabled;
}

/** The function tracer on the instance, filtered to the allocators and releasers of the pairs paired by calls. */
function startFunctionTracer({ tfs, undo, inst }: SetupStep, functions: string[]): void {
  undo.push({ kind: 'restore-file', path: tfs.path(inst('set_ftrace_filter')), value: '' });
  tfs.write(inst('set_ftrace_filter'), functions.join(' '));
  undo.push({ kind: 'restore-file', path: tfs.path(inst('current_tracer')), value: 'nop' });
  tfs.write(inst('current_tracer'), 'function');
}

/** A span of kernel addresses, end excluded (a module's core, a function). */
export interface AddressRange {
  start: bigint;
  end: bigint;
}

const inRange = (r: AddressRange) => `(call_site >= 0x${r.start.toString(16)} && call_site < 0x${r.end.toString(16)})`;

/** The kmem tracepoints of the run that allocate (kmalloc, kmem_cache_alloc and their _node forms). */
export function kmemAllocEvents(setup: TraceSetup): string[] {
  return setup.kmemEvents.filter((e) => e.startsWith('kmem/kmalloc') || e.startsWith('kmem/kmem_cache_alloc'));
}

/**
 * kmem events name their call site by symbol only, and after rmmod a module address can be named
 * after code that lay there before: a stack (whose frames carry raw addresses) with every kmalloc
 * from the module's own range, or from a helper its objects are attributed through
 * (`stackAttributed`), lets the analysis attribute it by address. The module's own frees get one
 * too: a bad free is reported with its stack.
 */
export function addModuleStackTriggers(tfs: Tracefs, setup: TraceSetup, module: AddressRange, helpers: AddressRange[], undo: UndoLog): void {
  const ranges = [module, ...helpers].map(inRange);
  const trigger = (event: string, condition: string) => {
    const path = tfs.path(`${setup.instance}/events/${event}/trigger`);
    undo.push({ kind: 'remove-trigger', path, trigger: 'stacktrace' });
    tfs.write(path, `stacktrace if ${condition}\n`);
  };
  for (const event of kmemAllocEvents(setup)) trigger(event, ranges.join(' || '));
  for (const event of setup.kmemEvents.filter((e) => e === 'kmem/kfree' || e === 'kmem/kmem_cache_free')) trigger(event, ranges[0]);
}

/** x86-64's module area: every module's code lies above it, the kernel's below. */
const MODULES_VADDR = '0xffffffffc0000000';

/**
 * For the error-path sweep, whose reloads put the module at addresses not known in advance: the
 * kmem allocations get a stack when their call site is in any module, or in one of `helpers` (the
 * helpers the module's objects are attributed through by stack). Replaces the stack triggers
 * addModuleStackTriggers set on them.
 */
export function addModuleAreaStackTriggers(tfs: Tracefs, setup: TraceSetup, helpers: AddressRange[], undo: UndoLog): void {
  const condition = [`call_site >= ${MODULES_VADDR}`, ...helpers.map(inRange)].join(' || ');
  for (const event of kmemAllocEvents(setup)) {
    const trigger = tfs.path(`${setup.instance}/events/${event}/trigger`);
    if (
      tfs
        .read(trigger)
        .split('\n')
        .some((l) => l.startsWith('stacktrace'))
    )
      tfs.write(trigger, '!stacktrace\n');
    undo.push({ kind: 'remove-trigger', path: trigger, trigger: 'stacktrace' });
    tfs.write(trigger, `stacktrace if ${condition}\n`);
  }
}

/**
 * A kprobe event `GROUP/event` on `target` (`MOD:function`) whose hits only kprobe_profile counts:
 * filtered to record nothing. Throws the kernel's refusal (TracefsError).
 */
export function addCountingProbe(tfs: Tracefs, setup: TraceSetup, event: string, target: string, undo: UndoLog): void {
  const full = `${setup.group}/${event}`;
  undo.push({ kind: 'remove-kprobe', kprobeEvents: tfs.path('kprobe_events'), event: full });
  tfs.append('kprobe_events', `p:${full} ${target}\n`);
  tfs.write(`${setup.instance}/events/${full}/filter`, 'common_pid < 0');
  undo.push({ kind: 'restore-file', path: tfs.path(`${setup.instance}/events/${full}/enable`), value: '0' });
  tfs.write(`${setup.instance}/events/${full}/enable`, '1');
}

/** Empties the instance's buffer and turns it back on (collectTrace stopped it): a new trace from here. */
export function restartTrace(tfs: Tracefs, setup: TraceSetup): void {
  tfs.write(`${setup.instance}/trace`, '');
  tfs.write(`${setup.instance}/tracing_on`, '1');
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
      [...setup.pairs.flatMap((p) => [...p.allocEvents, ...p.freeEvents]), setup.deferredFreeEvent].filter((e): e is string => !!e).map((e) => e.split('/')[1]),
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
