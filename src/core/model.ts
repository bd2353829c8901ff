// The data that flows between the parts of alloc-balance. Everything here is plain JSON:
// an AnalysisResult is what `alloc-balance analyze --json` prints, a RunReport is the JSON
// report the action writes, and both are read back by `compare` and by the `report` mode.
import type { CrashSummary } from '../kernel-splats.js';

/** One tracked allocator/releaser pair, e.g. `alloc_netdev_mqs:free_netdev`. */
export interface PairSpec {
  alloc: string;
  free: string;
  /** Further allocators and releasers of the same objects (a family found by track: auto). */
  moreAllocs?: string[];
  moreFrees?: string[];
  /** Found by track: auto: only the module's own allocations are kept (the family is hot system-wide). */
  auto?: boolean;
}

export interface Counts {
  allocs: number;
  frees: number;
  /** allocs - frees (function-tracer counting) or objects still live (address pairing). */
  outstanding: number;
}

/** Counts inside one workload cycle (cycle 0 = before the first cycle marker: load, set-up). */
export interface CycleCounts extends Counts {
  cycle: number;
  /** Objects outstanding (cumulative, from the start of the trace) when this cycle ended. */
  outstandingAfter: number;
}

/** A call site that allocated or released objects of a pair. */
export interface CallerCounts extends Counts {
  /** Symbolized call site: `func`, `func+0x1a/0x40` or a raw address when nothing better is known. */
  caller: string;
  /** true: the call site is code of the module under test; false: other code; null: unknown (no module given). */
  inModule: boolean | null;
  /** `file.c:123` from the module's debug info, when known. */
  location?: string;
  perCycle: CycleCounts[];
}

/** An object allocated and never released (address pairing only). */
export interface OutstandingObject {
  address: string;
  caller: string;
  inModule: boolean | null;
  location?: string;
  /** Cycle whose events allocated it (0 = before the first cycle). */
  cycle: number;
  /** Innermost first, symbolized, when stacks were recorded. */
  stack?: string[];
  /** kmem pairs: the bytes the allocator gave it (bytes_alloc); absent when the trace does not say (kprobe pairs). */
  bytes?: number;
}

export type PairingMethod = 'function' | 'kprobe' | 'kmem' | 'vmallocinfo';

/**
 * How the leak rate was read from the outstanding objects after each cycle (see leak-rate.ts):
 * `growing` (the last cycle left more than any before: a leak while loaded), `plateau` (growth
 * stopped at cycle `from`: a bounded cache), `flat` (no growth after cycle 1), `end` (one cycle
 * or no markers: what was left at the end).
 */
export interface GrowthJudgement {
  shape: 'growing' | 'plateau' | 'flat' | 'end';
  rate: number;
  /** growing: the first and last cycle the slope was taken over. */
  window?: [number, number];
  /** plateau: the cycle whose level was never exceeded after it. */
  from?: number;
  /** The judgement in words, for the report: `grows through the last cycle: slope over all 3 cycles`. */
  text: string;
}

/**
 * A free by module code (kmem events: the call site is known) that released nothing: a second
 * free of an address with no allocation of it in between, or a free of an address the trace
 * never saw allocated, by anyone.
 */
export interface BadFree {
  kind: 'double-free' | 'never-allocated';
  address: string;
  /** The module call site of the bad free. */
  caller: string;
  inModule: boolean | null;
  location?: string;
  /** The releaser: kfree, kmem_cache_free. */
  fn: string;
  cycle: number;
  /** double-free: where the object was allocated and who freed it first. */
  allocatedBy?: string;
  firstFreedBy?: string;
  /** Innermost first, when the kernel side recorded a stack for the module's frees. */
  stack?: string[];
}

export interface PairResult extends Counts {
  alloc: string;
  free: string;
  method: PairingMethod;
  /** Allocs/frees/outstanding counting only call sites in the module under test (all when unknown). */
  module: Counts;
  callers: CallerCounts[];
  cycles: CycleCounts[];
  /** Like `cycles`, counting only the module's call sites (in-module or unknown): what `leakedPerCycle` reads. */
  moduleCycles?: CycleCounts[];
  /** The module's objects leaked per cycle, as `growth` judged them. */
  leakedPerCycle: number;
  /** How leakedPerCycle was read from the module's outstanding objects after each cycle. */
  growth?: GrowthJudgement;
  /** Bad frees by module code (kmem pairs), the first `maxObjects`. */
  badFrees?: BadFree[];
  /** Frees of objects whose allocation the trace did not see (address pairing only). */
  unmatchedFrees: number;
  objects: OutstandingObject[];
  /** kmem pairs: the slab caches the module's objects came from (from bytes_alloc), with counts. */
  caches?: { cache: string; allocs: number; outstanding: number }[];
  /** kmem pairs and pairs found by track: auto: allocations by call sites outside the module, not tracked (nor their frees). */
  ignoredAllocs?: number;
  /** Found by track: auto in the module's imports, not asked for: a workload may never reach it. */
  auto?: boolean;
  /**
   * Memory a kernel API allocated for the module (`alloc` is that kernel function), attributed to
   * the module's call site by the allocation's stack (core/api-memory.ts).
   */
  viaApi?: boolean;
  /**
   * Counted by the apiwatch helper, not the trace: the module's objects from an allocator the named
   * track leaves out (`alloc` is that allocator), paired by address in the kernel (core/api-memory.ts).
   */
  untracked?: boolean;
}

export interface SlabDelta {
  cache: string;
  before: number;
  after: number;
  delta: number;
}

/** The slabinfo cross-check of one pair: how the caches its objects live in changed. */
export interface SlabCheck {
  pair: string;
  /** The module's objects of the pair still allocated at the end of the trace. */
  outstanding: number;
  /**
   * 'cache': the caches the objects were allocated from are known (kmem events give their size);
   * 'alignment': not known; the kmalloc caches whose size the objects' addresses are aligned to
   * (a kmalloc-N object lies on an N-byte boundary) and that grew by at least `outstanding`;
   * 'growth': neither, the caches shown grew by at least `outstanding` objects;
   * 'none': nothing to show.
   */
  basis: 'cache' | 'alignment' | 'growth' | 'none';
  caches: SlabDelta[];
  /** The check in one line, for the report. */
  text: string;
}

export interface AnalysisResult {
  /** false when the trace lost events (header, `[LOST n EVENTS]`, per-CPU stats): never evidence of balance. */
  complete: boolean;
  lostEvents: number;
  /** Where lost events were counted: the trace buffer (overwritten, dropped) or kretprobe misses. */
  lostBy?: { buffer: number; probes: number };
  /** Workload cycles seen (markers); 1 for a trace without cycle markers. */
  cycles: number;
  pairs: PairResult[];
  /** Human-readable reasons the result is incomplete or doubtful. */
  problems: string[];
  /** Optional /proc/slabinfo cross-check: every cache that changed. */
  slab?: SlabDelta[];
  /** The same, per pair, narrowed to the caches its objects live in. */
  slabCheck?: SlabCheck[];
  /** Cross-check of address pairing against function-tracer counts, when both were traced. */
  crossCheck?: { pair: string; kprobeAllocs: number; functionAllocs: number; agree: boolean }[];
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** A finding that fails the check under the policy: a bad free, or a leak at a row (its worst site when known). */
export type Finding = { kind: 'bad-free'; row: BadFreeRow } | { kind: 'leak'; row: ComparisonRow; site: string | null };

/** What decided the verdict; its kind also says whom the verdict blames (verdict/cause.ts). */
export type VerdictCause =
  | { kind: 'cancelled' }
  | { kind: 'both-failed'; status: RunStatus }
  | { kind: 'base-failed-too'; base: SideRun }
  | { kind: 'pr-failed'; pr: SideRun }
  | { kind: 'base-not-measured'; base: SideRun }
  | { kind: 'no-pr-trace' }
  /** `why`: the traces that lost events or are incomplete; `unmeasured`: pairs asked for and not measured. */
  | { kind: 'untrusted-trace'; why: string[]; unmeasured: string[] }
  | { kind: 'leak'; findings: Finding[] }
  | { kind: 'balanced'; failOn: FailOn; prRate: number; baseRate: number; noAllocations: boolean }
  | { kind: 'error-path-leak'; findings: ErrorPathFinding[] }
  | { kind: 'changed-code-idle'; idle: string[] }
  | { kind: 'canary-missed'; canary: CanaryResult };

export type FailOn = 'new-leak' | 'any-leak' | 'never';

/** Per-cycle leak figures of one side, for one row of the table. */
export interface SideFigures extends Counts {
  cycles: number;
  leakedPerCycle: number;
  /** Outstanding (cumulative) after each workload cycle. */
  growth: number[];
  /** How leakedPerCycle was judged from `growth` (absent in older reports). */
  judged?: GrowthJudgement;
}

/** Bad frees at one call site of the module, on each side, for the verdict and the comment. */
export interface BadFreeRow {
  pair: string;
  kind: BadFree['kind'];
  caller: string;
  location?: string;
  base: number;
  pr: number;
  /** On the PR and not on the base: fails under new-leak. */
  isNew: boolean;
  /** One of the PR's (or, when the PR has none, the base's), with its stack. */
  example: BadFree;
}

/** 'not-measured': the PR analysis lacks the pair, or a side saw no event of it: no figure to judge. */
export type RowStatus = 'balanced' | 'new-leak' | 'worse' | 'same-leak' | 'better' | 'fixed' | 'unknown' | 'outside' | 'not-measured';

export interface ComparisonRow {
  pair: string;
  caller: string;
  inModule: boolean | null;
  location?: string;
  base: SideFigures | null;
  pr: SideFigures | null;
  /** pr.leakedPerCycle - base.leakedPerCycle */
  change: number;
  status: RowStatus;
  /** Runner that measured this row, when reports of several runners were merged. */
  runner?: string;
  /** The pair's row over all the module's call sites: the verdict is read on these rows. */
  total?: boolean;
  /**
   * Function-tracer counting: this call site allocates or releases, its objects are not paired
   * one by one, so its leak is read on the pair's total row only (its status is 'unknown').
   */
  countedOnly?: boolean;
}

export interface Comparison {
  verdict: Verdict;
  failOn: FailOn;
  /** The one-line verdict shown above the table. */
  headline: string;
  reasons: string[];
  rows: ComparisonRow[];
  /** Bad frees by module code on either side (absent when none). */
  badFrees?: BadFreeRow[];
  /** The module allocated nothing during the PR's cycles (track: auto still traced the slab allocator). */
  noAllocations?: boolean;
  base: { complete: boolean; lostEvents: number; cycles: number };
  pr: { complete: boolean; lostEvents: number; cycles: number };
  /** The PR's error-path leaks and breakages the base does not have (each also in reasons). */
  errorPaths?: ErrorPathFinding[];
  /** The PR's error-path leaks and breakages at sites the base's sweep never reached: not judged. */
  errorPathsNotCompared?: ErrorPathFinding[];
}

/** How one side (base or PR) went on the target, before any analysis. */
export type RunStatus =
  | 'ok'
  | 'build-failed'
  | 'load-failed'
  | 'unload-failed'
  | 'workload-not-ready'
  | 'workload-failed'
  | 'kernel-splat'
  | 'timeout'
  | 'cancelled'
  | 'setup-failed';

/** The accelerator a lab VM ran under: KVM, or QEMU's software emulation (TCG), with the reason it was chosen. */
export interface AccelUsed {
  kind: 'kvm' | 'tcg';
  why: string;
}

export interface SideRun {
  side: 'base' | 'pr';
  ref: string;
  sha: string;
  status: RunStatus;
  /** One line: why the run is not `ok`. */
  reason?: string;
  /** The relevant lines of the build log, dmesg or workload output. */
  logExcerpt?: string;
  timings: Record<string, number>;
  analysis?: AnalysisResult;
  /** Paths of raw artifacts (traces, dmesg) written by this side. */
  artifacts?: string[];
  /** track: auto: the allocator families found in the module's imports, a line each. */
  tracked?: string[];
  /** What the kernel side said about the run (functions it could not trace, deferred frees). */
  notes?: string[];
  /** target: vm: the accelerator the side's VM ran under (absent on target: host and in older reports). */
  accel?: AccelUsed;
  /** The error-path sweep (input `error-paths`): what each call site's injected failure left. */
  errorPaths?: ErrorPaths;
  /** PR side: the module functions the PR changed, and how often each ran. */
  changed?: ChangedCode;
  /** The base came from the Actions cache: measured by an earlier run of the same key, not by this one. */
  cached?: CachedSideOrigin;
}

/** Where a cached side's result was measured. */
export interface CachedSideOrigin {
  /** The Actions cache key (base SHA, kernel, measurement settings, action version). */
  key: string;
  /** GITHUB_RUN_ID of the run that measured it ('' outside Actions). */
  runId: string;
  /** That run's page, when known. */
  runUrl: string | null;
  /** When it was saved (ISO 8601). */
  savedAt: string;
}

/** What a report compared, as the triggering event described it: lets a report job find the PR. */
interface ChangeRef {
  event: string;
  prNumber: number | null;
  baseSha: string;
  headSha: string;
  /** owner/name of the repository the head came from. */
  headRepo: string;
  isFork: boolean;
}

/** The known leak run before the sides (input `canary`): does the detector work on this kernel? */
export interface CanaryResult {
  /** Exactly 1 object leaked per cycle at the canary's call site, in a complete trace. */
  caught: boolean;
  /** The canary's call site, e.g. `ab_canary_open`. */
  site: string;
  location?: string;
  /** Measured at the call site; null when the run produced no analysis. */
  leakedPerCycle: number | null;
  cycles: number;
  status: RunStatus;
  kernel: string;
  /** Why it was not caught. */
  reason?: string;
}

export interface RunReport {
  schema: 'alloc-balance/report@1';
  runner: { name: string; kernel: string; target: 'host' | 'vm' };
  module: string;
  pairs: string[];
  base: SideRun;
  pr: SideRun;
  comparison: Comparison;
  change?: ChangeRef;
  canary?: CanaryResult;
  /** What repeats this run outside Actions (`alloc-balance run`): the repository, this action as the workflow named it ('' for a checkout's own), the inputs it set. */
  localRun?: LocalRun;
}

interface LocalRun {
  /** owner/name of the repository under test. */
  repository: string;
  /** owner/name@ref of the action ('' when it ran from a checkout: uses: ./). */
  tool: string;
  /** The inputs `alloc-balance run` takes as options that the workflow set to other values than their defaults. */
  inputs: Record<string, string>;
}

/** A function the PR changed (core/changed-code.ts) and how often it ran. */
interface ChangedFunction {
  name: string;
  /** Calls during the load, cycles and unload; null when it could not be counted. */
  calls: number | null;
  /** Further calls during the error-path sweep. */
  sweepCalls?: number;
  /**
   * The module's init or exit function: the kernel runs it at every load or unload, whatever a
   * probe counted (a probe on module code goes with the module as it unloads).
   */
  lifecycle?: 'load' | 'unload';
}

export interface ChangedCode {
  functions: ChangedFunction[];
  /** Why the calls could not be counted, when they could not. */
  problem?: string;
}

// The error-path sweep's findings (core/error-paths.ts).

/** One object the module left after an injected failure, by the call site that allocated it. */
export interface SweepLeak {
  caller: string;
  location?: string;
  pair: string;
  count: number;
}

/** What failing a site did besides leaking: the kernel crashed, the cycle hung, the module stayed loaded. */
export type Breakage =
  | ({ kind: 'crash' } & CrashSummary)
  /** seconds: the sweep's own limit ran out; without it the whole VM stopped answering. */
  | { kind: 'hang'; seconds?: number }
  | { kind: 'stuck' };

/** One site of the sweep as the report shows it. */
export interface ErrorPathSite {
  site: string;
  location?: string;
  /** The allocator as the source line calls it (`kzalloc`), else as probed (`kmalloc_trace`). */
  allocator?: string;
  injected: boolean;
  loaded: boolean;
  workload: 'ok' | 'failed' | 'not-run';
  unloaded: boolean;
  splat?: string;
  /** The injected failure crashed the kernel, hung the cycle or left the module loaded: the sweep ended there. */
  breakage?: Breakage;
  /** What the module left after the injected cycle and its unload. */
  leaks: SweepLeak[];
  /** The site's trace lost events: its leaks are not evidence. */
  incomplete?: boolean;
}

export interface ErrorPaths {
  /** The module swept. */
  module?: string;
  skipped?: string;
  /** Why the sweep ended before its last site. */
  stopped?: string;
  sites: ErrorPathSite[];
  /** Sites the sweep meant to fail but never reached (it stopped first). */
  notSwept?: string[];
  seconds: number;
  notProbed?: string[];
}

/** One leak or breakage of the PR's sweep that the base's did not have. */
export interface ErrorPathFinding {
  site: string;
  siteLocation?: string;
  allocator?: string;
  leak?: SweepLeak;
  breakage?: Breakage;
  /** "when the kzalloc at abcase_open:18 fails, the object from abcase_alloc_ctx:9 is never freed" */
  text: string;
}
